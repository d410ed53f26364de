"""SLA credits (clause 8.5): downtime per affected server, the schedule, the cap at the month's fee, review,
payment as gift balance exactly once, and the ledger staying sound."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wuji.core import clock
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction
from wuji.notifications.models import Notice
from wuji.status import services, sla
from wuji.status.choices import CreditState, IncidentStatus
from wuji.status.models import Incident, SlaCredit, SlaPolicy

from .support import hours

START = dt.datetime(2026, 12, 3, 10, 0, tzinfo=clock.SHANGHAI)  # December: 31 days = 2,678,400 s


@pytest.fixture(autouse=True)
def _december():
    clock.reset()
    clock.advance(START - clock.now())
    yield
    clock.reset()


def incident_of(ops, region, *, down: dt.timedelta, nodes=(), title="宿主机故障"):
    clock.advance(hours(1))
    incident = services.open_incident(Incident(title=title, region=region), message="宿主机宕机。", actor=ops)
    incident.nodes.set(nodes)
    clock.advance(down)
    services.post_update(incident, status=IncidentStatus.RESOLVED, message="已恢复。", actor=ops)
    incident.refresh_from_db()
    return incident


def month_fee(server):
    return server.subscription.price_fen  # monthly subscriptions in the fixture


def test_two_hours_down_credits_ten_percent_to_the_servers_on_the_node_only(world, ops, finance):
    incident = incident_of(ops, world["region"], down=hours(2), nodes=[world["node1"]])
    [credit] = sla.propose_credits(incident, actor=finance)
    assert credit.server == world["alice"] and credit.customer == world["alice"].owner
    assert credit.downtime_seconds == 7200
    assert credit.availability == Decimal("99.7311")  # 1 - 7200 / 2,678,400
    assert credit.credit_percent == 10
    assert credit.month_fee_fen == month_fee(world["alice"])
    assert credit.amount_fen == month_fee(world["alice"]) // 10
    assert credit.state == CreditState.PROPOSED


def test_a_region_incident_reaches_every_server_in_the_region_by_its_downtime(world, ops, finance):
    incident = incident_of(ops, world["region"], down=hours(10))
    credits = {c.server: c for c in sla.propose_credits(incident, actor=finance)}
    assert set(credits) == {world["alice"], world["bob"]}  # carol is in Hong Kong
    assert {c.credit_percent for c in credits.values()} == {25}  # 98.66 % < 99 %


def test_short_downtime_within_the_target_proposes_nothing(world, ops, finance):
    incident = incident_of(ops, world["region"], down=dt.timedelta(minutes=30), nodes=[world["node1"]])
    assert sla.propose_credits(incident, actor=finance) == []  # 99.93 % ≥ 99.9 %


def test_the_plans_own_policy_replaces_the_default(world, ops, finance):
    SlaPolicy.objects.create(plan=world["alice"].plan, target_percent=Decimal("99.99"),
                             schedule=[[99.99, 5], [99.5, 50]])
    incident = incident_of(ops, world["region"], down=hours(2), nodes=[world["node1"]])
    [credit] = sla.propose_credits(incident, actor=finance)
    assert credit.credit_percent == 5


def test_credit_is_capped_at_the_months_fee_across_incidents(world, ops, finance):
    first = incident_of(ops, world["region"], down=hours(48), nodes=[world["node1"]])
    [full] = sla.propose_credits(first, actor=finance)
    assert full.credit_percent == 100 and full.amount_fen == month_fee(world["alice"])
    second = incident_of(ops, world["region"], down=hours(48), nodes=[world["node1"]], title="又一次故障")
    assert sla.propose_credits(second, actor=finance) == []  # the month's fee is already fully credited
    total = sum(SlaCredit.objects.filter(server=world["alice"]).values_list("amount_fen", flat=True))
    assert total == month_fee(world["alice"])


@settings(max_examples=25, deadline=None)
@given(minutes=st.integers(min_value=1, max_value=31 * 24 * 60), fee=st.integers(min_value=1, max_value=10**8),
       schedule=st.lists(st.tuples(st.floats(min_value=0.01, max_value=100), st.integers(1, 100)), max_size=4))
def test_percent_never_exceeds_100_so_the_credit_never_exceeds_the_fee(minutes, fee, schedule):
    month = 31 * 86400
    availability = (Decimal(100) * (month - minutes * 60) / month).quantize(Decimal("0.0001"))
    rows = sorted(((Decimal(str(b)), p) for b, p in schedule), reverse=True)
    assert 0 <= fee * sla.credit_percent(availability, rows) // 100 <= fee


def test_credits_need_a_resolved_incident_and_finance_staff(world, ops, finance):
    open_incident = services.open_incident(Incident(title="x", region=world["region"]), message="m", actor=ops)
    with pytest.raises(services.StatusRefused, match="解决后"):
        sla.propose_credits(open_incident, actor=finance)
    incident = incident_of(ops, world["region"], down=hours(2))
    with pytest.raises(services.StatusRefused, match="财务"):
        sla.propose_credits(incident, actor=ops)


def test_proposing_twice_adds_nothing(world, ops, finance):
    incident = incident_of(ops, world["region"], down=hours(2))
    assert len(sla.propose_credits(incident, actor=finance)) == 2
    assert sla.propose_credits(incident, actor=finance) == []


def test_paying_credits_gift_balance_once_with_a_notice(world, ops, finance):
    incident = incident_of(ops, world["region"], down=hours(2), nodes=[world["node1"]])
    [credit] = sla.propose_credits(incident, actor=finance)
    owner = world["alice"].owner
    gift_before = ledger.balances(owner)["gift"]
    paid = sla.pay_credit(credit, actor=finance)
    assert paid.state == CreditState.PAID and paid.ledger_transaction is not None
    assert ledger.balances(owner)["gift"] == gift_before + credit.amount_fen
    assert Notice.objects.filter(recipient=owner, event="billing.gift_granted", body__contains="SLA").count() == 1
    with pytest.raises(services.StatusRefused, match="已发放"):
        sla.pay_credit(credit, actor=finance)
    assert ledger.balances(owner)["gift"] == gift_before + credit.amount_fen
    assert Transaction.objects.filter(idempotency_key=f"gift:sla:{incident.pk}:{world['alice'].pk}").count() == 1
    assert ledger.verify() == []


def test_only_finance_pays_and_a_rejected_credit_cannot_be_paid(world, ops, finance, customer):
    incident = incident_of(ops, world["region"], down=hours(2), nodes=[world["node1"]])
    [credit] = sla.propose_credits(incident, actor=finance)
    for someone in (ops, customer):
        with pytest.raises(services.StatusRefused):
            sla.pay_credit(credit, actor=someone)
    sla.reject_credit(credit, reason="客户自身原因导致", actor=finance)
    with pytest.raises(services.StatusRefused):
        sla.pay_credit(credit, actor=finance)
    assert not Transaction.objects.filter(idempotency_key__startswith="gift:sla:").exists()


def test_paid_credit_shows_in_the_customers_ledger_and_not_in_anothers(world, ops, finance, client):
    incident = incident_of(ops, world["region"], down=hours(2), nodes=[world["node1"]])
    [credit] = sla.propose_credits(incident, actor=finance)
    sla.pay_credit(credit, actor=finance)
    client.force_login(world["alice"].owner)
    assert "SLA 赔偿" in client.get("/wallet/").content.decode()
    client.force_login(world["bob"].owner)
    assert "SLA 赔偿" not in client.get("/wallet/").content.decode()
