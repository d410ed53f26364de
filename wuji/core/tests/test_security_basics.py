"""Clause 6.7 (passwords hashed with a modern algorithm) and 2.2.2 (log-out ends the session on the server)."""

from django.contrib.sessions.models import Session
from django.urls import reverse

from wuji.core import testing


def test_passwords_are_stored_as_argon2_hashes(customer):
    customer.refresh_from_db()
    assert customer.password.startswith("argon2$")
    assert testing.PASSWORD not in customer.password


def test_log_out_ends_the_session_on_the_server(client, customer):
    client.login(email=customer.email, password=testing.PASSWORD)
    old_cookie = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=old_cookie).exists()
    client.post(reverse("portal:logout"))
    assert not Session.objects.filter(session_key=old_cookie).exists()
    client.cookies["sessionid"] = old_cookie  # replaying the old cookie gets nothing
    response = client.get(reverse("portal:servers"))
    assert response.status_code == 302 and "login" in response["Location"]
