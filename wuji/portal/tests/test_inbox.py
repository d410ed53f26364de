import pytest
from django.urls import reverse

from wuji.core import testing
from wuji.notifications import services as notifications
from wuji.notifications.models import Notice


@pytest.fixture
def customer(catalogue):
    return testing.make_customer("alice@example.com", verified=False)  # an empty inbox


@pytest.fixture
def notice(customer):
    from wuji.compute import notices

    return notifications.notify(customer, notices.SERVER_READY.code,
                                {"name": "web-1", "uuid": "u", "region": "华东-赣州"})


def login(client, user):
    client.login(email=user.email, password=testing.PASSWORD)
    return client


def test_inbox_lists_notices_with_unread_count_and_marks_them_read(client, customer, notice):
    login(client, customer)
    page = client.get(reverse("portal:inbox"))
    assert page.status_code == 200
    assert "您的服务器 web-1 已创建完成" in page.content.decode()
    assert page.context["unread_notices"] == 1
    client.post(reverse("portal:inbox_mark_read"), {"notice": notice.pk})
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert client.get(reverse("portal:inbox")).context["unread_notices"] == 0


def test_another_user_can_neither_see_nor_mark_a_notice(client, customer, other_customer, notice):
    login(client, other_customer)
    page = client.get(reverse("portal:inbox"))
    assert "web-1" not in page.content.decode()
    client.post(reverse("portal:inbox_mark_read"), {"notice": notice.pk})
    client.post(reverse("portal:inbox_mark_read"), {"all": "1"})
    assert Notice.objects.get(pk=notice.pk).read_at is None


def test_inbox_needs_login(client):
    assert client.get(reverse("portal:inbox")).status_code == 302
