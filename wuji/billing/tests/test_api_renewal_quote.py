"""Issue 7 coverage (decision 0044): the renewal quote the portal's renew page shows, over the API; the amount it
quotes is what the renewal then charges; refusals and the owner boundary."""

import datetime as dt

from wuji.billing.models import SubscriptionCharge
from wuji.catalog.models import Price
from wuji.core import clock

from .test_subscriptions_api import SUBS, api, other_api, renew, sub  # noqa: F401 (fixtures)


def test_quote_then_renew_charges_the_quoted_amount(api, sub):  # noqa: F811
    quote = api.get(f"{SUBS}{sub.pk}/renewal-quote/", {"cycles": 2}).json()
    assert (quote["subscription"], quote["cycles"], quote["per_cycle_fen"], quote["amount_fen"]) == (sub.pk, 2, 2900,
                                                                                                   5800)
    assert quote["amount_yuan"] == "58.00" and quote["cycle"] == sub.cycle
    assert dt.datetime.fromisoformat(quote["expected_period_end"]) == sub.period_end
    done = renew(api, sub, cycles=2, expected=dt.datetime.fromisoformat(quote["expected_period_end"]))
    assert done.status_code == 201 and done.json()["amount_fen"] == quote["amount_fen"]


def test_a_price_cut_is_quoted(api, sub):  # noqa: F811
    Price.objects.create(plan=sub.plan, region=sub.region, cycle=sub.cycle, amount_fen=1900,
                         effective_from=clock.now() - dt.timedelta(seconds=1))
    assert api.get(f"{SUBS}{sub.pk}/renewal-quote/").json()["per_cycle_fen"] == 1900


def test_cycles_out_of_range_are_refused_naming_the_field(api, sub, settings):  # noqa: F811
    for bad in (0, 10_000, "x"):
        response = api.get(f"{SUBS}{sub.pk}/renewal-quote/", {"cycles": bad})
        assert response.status_code == 400 and response.json()["field"] == "cycles"


def test_another_customers_subscription_is_not_found_and_nothing_is_charged(other_api, sub):  # noqa: F811
    response = other_api.get(f"{SUBS}{sub.pk}/renewal-quote/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not SubscriptionCharge.objects.filter(kind="renewal").exists()
