from django.urls import reverse

from wuji.core import testing


def test_profile_page_shows_the_mobile_number_masked(client, customer):
    type(customer).objects.filter(pk=customer.pk).update(phone="+8613800138000")
    client.login(email=customer.email, password=testing.PASSWORD)
    page = client.get(reverse("portal:profile")).content.decode()
    assert "138****8000" in page
    assert "13800138000" not in page
