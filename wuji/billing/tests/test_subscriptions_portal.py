"""The portal's subscription pages: expiry and auto-renew on the server pages, renew, change plan; owner boundary."""

import uuid

import pytest
from django.urls import reverse

from wuji.billing.models import Subscription, SubscriptionCharge
from wuji.compute.choices import Operation
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.portal.tests.conftest import act, buy_server


@pytest.fixture
def sub(client, customer, catalogue):
    client.force_login(customer)
    server = buy_server(client, catalogue)
    return Subscription.objects.get(server=server)


def test_server_pages_show_expiry_auto_renew_and_renew(client, sub):
    page = client.get(reverse("portal:server", args=[sub.server_id])).content.decode()
    assert 'data-testid="subscription"' in page and "开启自动续费" in page
    assert reverse("portal:subscription_renew", args=[sub.pk]) in page
    listing = client.get(reverse("portal:servers")).content.decode()
    assert reverse("portal:subscription_renew", args=[sub.pk]) in listing


def test_renew_shows_the_price_then_renews_once(client, customer, sub):
    page = client.get(reverse("portal:subscription_renew", args=[sub.pk]), {"cycles": 2})
    assert "¥58.00" in page.content.decode()
    data = {"cycles": 2, "expected_period_end": page.context["expected_period_end"],
            "idempotency_key": str(page.context["idempotency_key"])}
    url = reverse("portal:subscription_renew", args=[sub.pk])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # double submit
    second_tab = client.post(url, {**data, "idempotency_key": str(uuid.uuid4())})
    assert second_tab.status_code == 302
    assert SubscriptionCharge.objects.filter(kind="renewal").count() == 1
    assert ledger.balances(customer)["cash"] == 100_00 - 2900 - 2 * 2900
    assert ledger.verify() == []


def test_renew_refusal_is_shown(client, sub):
    url = reverse("portal:subscription_renew", args=[sub.pk])
    data = {"cycles": 12, "expected_period_end": sub.period_end.isoformat(), "idempotency_key": "k"}
    response = client.post(url, data, follow=True)
    assert "余额不足" in response.content.decode()
    response = client.post(url, {"cycles": "x", "expected_period_end": "", "idempotency_key": "k"}, follow=True)
    assert "续费请求无效" in response.content.decode()
    assert not SubscriptionCharge.objects.filter(kind="renewal").exists()


def test_auto_renew_toggle(client, sub):
    client.post(reverse("portal:subscription_auto_renew", args=[sub.pk]), {"enabled": "1"})
    sub.refresh_from_db()
    assert sub.auto_renew is True
    page = client.get(reverse("portal:server", args=[sub.server_id])).content.decode()
    assert "关闭自动续费" in page
    # From the list: back to the list; an off-site `next` is ignored.
    response = client.post(reverse("portal:subscription_auto_renew", args=[sub.pk]),
                           {"enabled": "0", "next": reverse("portal:servers")})
    assert response.url == reverse("portal:servers")
    assert "自动续费：关" in client.get(reverse("portal:servers")).content.decode()
    response = client.post(reverse("portal:subscription_auto_renew", args=[sub.pk]),
                           {"enabled": "1", "next": "https://evil.example/"})
    assert response.url == reverse("portal:server", args=[sub.server_id])


def test_change_plan_quote_then_confirm(client, customer, sub, catalogue):
    from wuji.catalog.models import Plan

    act(client, sub.server, Operation.STOP)
    testing.run_tasks()
    s2 = Plan.objects.get(code="s2")
    page = client.get(reverse("portal:subscription_change_plan", args=[sub.pk]), {"plan": s2.pk})
    quote = page.context["quote"]
    assert quote is not None and 0 < quote.amount_fen <= 3000
    response = client.post(reverse("portal:subscription_change_plan", args=[sub.pk]), {
        "plan": s2.pk, "expected_amount": quote.amount_fen, "idempotency_key": str(page.context["idempotency_key"])})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.plan == s2 and sub.price_fen == 5900
    page = client.get(reverse("portal:subscription_change_plan", args=[sub.pk]),
                      {"plan": Plan.objects.get(code="s1").pk})
    assert "云盘容量只能扩大" in page.content.decode()
    assert ledger.verify() == []


def test_bob_gets_404_on_alices_subscription(client, sub, other_customer):
    client.force_login(other_customer)
    end = sub.period_end.isoformat()
    for name, method, data in [("portal:subscription_renew", "get", {}),
                               ("portal:subscription_renew", "post", {"cycles": 1, "idempotency_key": "b",
                                                                      "expected_period_end": end}),
                               ("portal:subscription_auto_renew", "post", {"enabled": "1"}),
                               ("portal:subscription_change_plan", "get", {}),
                               ("portal:subscription_change_plan", "post", {"plan": 2, "expected_amount": 0,
                                                                            "idempotency_key": "b"})]:
        url = reverse(name, args=[sub.pk])
        response = client.get(url, data) if method == "get" else client.post(url, data)
        assert response.status_code == 404, name
    sub.refresh_from_db()
    assert sub.auto_renew is False and not SubscriptionCharge.objects.exclude(kind="order").exists()


@pytest.mark.parametrize("query", ["", "?expiry=soon", "?expiry=expired", "?expiry=past", "?auto_renew__exact=1"])
def test_console_lists_subscriptions_read_only(client, sub, query):
    from wuji.accounts import services as accounts

    accounts.create_staff(email="ops@example.com", password=testing.PASSWORD)
    client.login(email="ops@example.com", password=testing.PASSWORD)
    response = client.get(reverse("admin:billing_subscription_changelist") + query)
    assert response.status_code == 200
    if not query:
        assert sub.server.name in response.content.decode()
    assert client.get(reverse("admin:billing_subscription_add")).status_code == 403
    detail = client.get(reverse("admin:billing_subscription_change", args=[sub.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
