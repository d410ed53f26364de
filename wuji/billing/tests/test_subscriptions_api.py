"""The subscription API: list, renew (exactly once, Idempotency-Key), auto-renew, plan change; owner boundary."""

import pytest

from wuji.api.tests.conftest import active_server, client_for
from wuji.billing.models import Subscription, SubscriptionCharge
from wuji.compute import services as compute
from wuji.compute.choices import Operation
from wuji.core import testing
from wuji.ledger import services as ledger

SUBS = "/api/v1/subscriptions/"


@pytest.fixture
def api(customer):
    return client_for(customer)


@pytest.fixture
def other_api(other_customer):
    return client_for(other_customer)


@pytest.fixture
def sub(api, customer):
    active_server(api)
    return Subscription.objects.get(customer=customer)


def renew(api, sub, key="r1", cycles=1, expected=None):
    body = {"cycles": cycles, "expected_period_end": (expected or sub.period_end).isoformat()}
    return api.post(f"{SUBS}{sub.pk}/renew/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_list_and_detail(api, sub):
    listed = api.get(SUBS).json()["results"]
    assert [row["id"] for row in listed] == [sub.pk]
    detail = api.get(f"{SUBS}{sub.pk}/").json()
    assert (detail["server"], detail["plan"], detail["price_fen"], detail["price_yuan"]) == (sub.server_id, "s1",
                                                                                            2900, "29.00")
    assert detail["state"] == "active" and detail["auto_renew"] is False


def test_renew_is_201_then_replays_and_another_caller_for_the_period_gets_the_first(api, customer, sub):
    first = renew(api, sub, cycles=2)
    assert first.status_code == 201, first.json()
    assert (first.json()["kind"], first.json()["amount_fen"], first.json()["cycles"]) == ("renewal", 5800, 2)
    again = renew(api, sub, cycles=2)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other_key = renew(api, sub, key="r2", cycles=2)  # a second tab, same period seen
    assert other_key.status_code == 200 and other_key.json()["id"] == first.json()["id"]
    refused = renew(api, sub, key="r3", cycles=1)  # same period, another amount: already renewed
    assert refused.status_code == 409 and refused.json()["code"] == "already_renewed"
    reused = renew(api, sub, key="r1", cycles=3)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert SubscriptionCharge.objects.filter(kind="renewal").count() == 1
    assert ledger.balances(customer)["cash"] == 100_00 - 2900 - 5800
    assert ledger.verify() == []


def test_renew_refusals(api, sub):
    response = api.post(f"{SUBS}{sub.pk}/renew/", {"cycles": 1, "expected_period_end": sub.period_end.isoformat()},
                        format="json", HTTP_IDEMPOTENCY_KEY="")
    assert response.status_code == 400 and response.json()["field"] == "Idempotency-Key"
    response = renew(api, sub, key="r0", cycles=0)  # a refusal is stored under its key: each try has its own
    assert response.status_code == 400 and response.json()["field"] == "cycles"
    response = renew(api, sub, key="r99", cycles=99)
    assert response.status_code == 422 and response.json()["field"] == "cycles"
    response = renew(api, sub, key="r36", cycles=36)  # 36 × 29 yuan > the balance
    assert response.status_code == 402 and "余额不足" in response.json()["message"]
    assert not SubscriptionCharge.objects.filter(kind="renewal").exists()


def test_auto_renew_toggle(api, sub):
    response = api.post(f"{SUBS}{sub.pk}/auto-renew/", {"enabled": True}, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert response.status_code == 200 and response.json()["auto_renew"] is True
    sub.refresh_from_db()
    assert sub.auto_renew is True


def test_change_plan_quote_and_confirm(api, customer, sub):
    compute.request_operation(server=sub.server, operation=Operation.STOP, actor=customer, channel="web", ip=None)
    testing.run_tasks()
    quote = api.post(f"{SUBS}{sub.pk}/change-plan/quote/", {"plan": "s2"}, format="json")
    assert quote.status_code == 200, quote.json()
    amount = quote.json()["amount_fen"]
    assert 0 < amount <= 3000 and quote.json()["kind"] == "upgrade"
    url = f"{SUBS}{sub.pk}/change-plan/"
    done = api.post(url, {"plan": "s2", "expected_amount_fen": amount}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert done.status_code == 201, done.json()
    assert done.json()["amount_fen"] <= amount and done.json()["plan_after"] == "s2"
    again = api.post(url, {"plan": "s2", "expected_amount_fen": amount}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert again.status_code == 201 and again.json() == done.json()
    down = api.post(f"{SUBS}{sub.pk}/change-plan/quote/", {"plan": "s1"}, format="json")
    assert down.status_code == 409 and down.json()["code"] == "disk_shrink"
    unknown = api.post(f"{SUBS}{sub.pk}/change-plan/quote/", {"plan": "nope"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["field"] == "plan"
    assert ledger.verify() == []


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("get", "", None),
    ("post", "renew/", {"cycles": 1, "expected_period_end": "2030-01-01T00:00:00Z"}),
    ("post", "auto-renew/", {"enabled": True}),
    ("post", "change-plan/quote/", {"plan": "s2"}),
    ("post", "change-plan/", {"plan": "s2"}),
])
def test_other_customer_gets_404(other_api, sub, method, suffix, body):
    url = f"{SUBS}{sub.pk}/{suffix}"
    if method == "get":
        response = other_api.get(url)
    else:
        response = other_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 404
    assert other_api.get(SUBS).json()["results"] == []
    sub.refresh_from_db()
    assert sub.auto_renew is False and not SubscriptionCharge.objects.exclude(kind="order").exists()


def test_list_queries_do_not_grow_with_rows(api, customer, django_assert_max_num_queries):
    from wuji.api.tests.conftest import buy

    testing.fund(customer, 1000_00)
    buy(api, key="o-0")
    api.get(SUBS)  # the key's last-used time is written on first use
    with django_assert_max_num_queries(3) as captured:
        api.get(SUBS)
    baseline = len(captured.captured_queries)
    for index in range(1, 5):
        buy(api, key=f"o-{index}")
    with django_assert_max_num_queries(baseline):
        assert len(api.get(SUBS).json()["results"]) == 5
