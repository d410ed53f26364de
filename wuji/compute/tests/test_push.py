"""Server push (服务器push, 3.1.1, 3.2): offer, acceptance, every refusal, what moves and what history keeps."""

import datetime as dt

import pytest
import time_machine

from wuji.audit.models import Instruction
from wuji.billing import freezes
from wuji.billing.models import Meter, Subscription
from wuji.billing.tests.payg_helpers import START, buy
from wuji.catalog.choices import PlatformService
from wuji.catalog.models import ServiceFee
from wuji.compute import push as pushes
from wuji.compute import services as compute
from wuji.compute.choices import Operation, PushState, SuspensionReason
from wuji.compute.models import ServerPush
from wuji.core import clock, testing
from wuji.identity.tests.test_cancel_membership import restrict
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction
from wuji.network import services as network
from wuji.network.models import IpAllocation, IpPool
from wuji.notifications.models import Notice
from wuji.payments.tests.helpers import staff

from .test_operations import active_server, operate

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def machine(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pool(catalogue):
    return network.save_pool(IpPool(name="p1", region=catalogue["region"], cidr="203.0.113.0/29",
                                    gateway="203.0.113.1"), actor=None, channel="staff")


@pytest.fixture
def server(machine, pool, customer, catalogue):
    return active_server(customer, catalogue)


def offer(server, receiver_login="bob@example.com", *, key="o1", actor=None):
    return pushes.offer(server=server, receiver_login=receiver_login, actor=actor or server.owner, channel="web",
                        ip="127.0.0.1", idempotency_key=key)


def accept(push, actor):
    return pushes.accept(push=push, actor=actor, channel="web", ip="127.0.0.1")


def refused(action):
    return Instruction.objects.filter(action=action, result="refused")


def notices(user, event):
    return Notice.objects.filter(recipient=user, event=event)


# --- Acceptance moves everything ------------------------------------------------------------------------------


def test_acceptance_moves_owner_renewals_and_ip_holder_and_keeps_the_history(server, customer, other_customer,
                                                                               machine):
    address = network.address_of(server)
    push = offer(server)
    assert push.state == PushState.OFFERED and push.expires_at == START + 72 * HOUR
    assert notices(other_customer, "compute.push_offered").get().body.count("2027-03-04 08:00") == 1  # Beijing
    machine.shift(HOUR)
    accepted = accept(push, other_customer)
    server.refresh_from_db()
    assert accepted.state == PushState.ACCEPTED and server.owner == other_customer
    sub = Subscription.objects.get(server=server)
    assert (sub.customer, sub.auto_renew, sub.paid_cash_fen, sub.paid_gift_fen) == (other_customer, False, 0, 0)
    # Same address, new holder from the moment of the push; who held it before is still answerable.
    assert network.address_of(server) == address
    before, after = START + HOUR / 2, START + 2 * HOUR
    assert network.history(address=address, at=before).get().owner == customer
    assert network.history(address=address, at=after).get().owner == other_customer
    assert IpAllocation.objects.filter(server=server).count() == 2
    # Both sides told; both instructions recorded; the offer's outcome recorded in the sender's log.
    assert notices(customer, "compute.push_accepted").count() == 1
    assert notices(other_customer, "compute.push_received").count() == 1
    offer_record = Instruction.objects.get(action="server.push_offer", result="accepted")
    assert offer_record.owner == customer and offer_record.params["receiver"] == "bob@example.com"
    assert offer_record.outcomes.get().result == "succeeded"
    accept_record = Instruction.objects.get(action="server.push_accept", result="accepted")
    assert accept_record.owner == other_customer and accept_record.actor == other_customer
    # The server is now the receiver's: the sender's instructions are refused, the receiver's run.
    assert not pushes.outgoing_of(other_customer).exists()
    operate(server, Operation.REBOOT)
    assert server.owner == other_customer


def test_a_stale_operation_from_the_old_owner_is_refused(server, customer, other_customer):
    stale = type(server).objects.get(pk=server.pk)  # loaded by the sender before the push
    accept(offer(server), other_customer)
    with pytest.raises(compute.OperationRefused, match="服务器不存在"):
        compute.request_operation(server=stale, operation=Operation.REBOOT, actor=customer, channel="web",
                                  ip=None)
    stale.refresh_from_db()
    assert stale.task_state == ""


def set_fee(amount_fen, at=None):
    """A row of the catalogue's service fee list for the push, in force from `at` (default now)."""
    return ServiceFee.objects.create(service=PlatformService.SERVER_PUSH, amount_fen=amount_fen,
                                     effective_from=at or clock.now())


def test_fee_is_charged_to_the_sender_once(server, customer, other_customer):
    set_fee(5_00)
    before = ledger.balances(customer)["cash"]
    push = offer(server)
    assert push.fee_fen == 5_00
    accept(push, other_customer)
    again = accept(push, other_customer)  # a retry returns the accepted push
    assert again.state == PushState.ACCEPTED
    assert ledger.balances(customer)["cash"] == before - 5_00
    assert ledger.balances(other_customer)["cash"] == 100_00
    assert Transaction.objects.filter(idempotency_key=f"push:{push.pk}:fee").count() == 1
    push.refresh_from_db()
    assert push.fee_transaction.idempotency_key == f"push:{push.pk}:fee"


@pytest.mark.parametrize("new_fee", [9_00, 0])
def test_a_fee_change_after_the_offer_does_not_change_the_charge(server, customer, other_customer, machine,
                                                                 new_fee):
    set_fee(5_00)
    before = ledger.balances(customer)["cash"]
    push = offer(server)  # the sender is shown 5 元
    set_fee(new_fee, at=START + HOUR)
    machine.shift(2 * HOUR)
    assert pushes.current_fee_fen() == new_fee
    accept(push, other_customer)
    assert ledger.balances(customer)["cash"] == before - 5_00
    assert Instruction.objects.get(action="server.push_accept").params["fee_fen"] == 5_00


def test_a_fee_effective_in_the_future_is_not_applied_yet(server, customer, other_customer, machine):
    set_fee(5_00, at=START + HOUR)
    before = ledger.balances(customer)["cash"]
    assert pushes.current_fee_fen() == 0  # the demo catalogue's row: free
    push = offer(server)
    assert push.fee_fen == 0
    machine.shift(2 * HOUR)
    assert pushes.current_fee_fen() == 5_00
    accept(push, other_customer)  # offered free, accepted free
    push.refresh_from_db()
    assert push.fee_transaction is None and ledger.balances(customer)["cash"] == before
    assert not Transaction.objects.filter(idempotency_key=f"push:{push.pk}:fee").exists()


def test_fee_not_covered_refuses_the_offer_and_the_acceptance(server, customer, other_customer, machine):
    set_fee(1_000_00)
    with pytest.raises(pushes.PushRefused, match="余额不足以支付转让手续费") as exc:
        offer(server)
    assert exc.value.code == "insufficient_balance"
    machine.shift(HOUR)
    set_fee(10_00)
    push = offer(server, key="o2")
    spend_all(customer)
    with pytest.raises(pushes.PushRefused, match="转出方余额不足") as exc:
        accept(push, other_customer)
    assert exc.value.code == "sender_insufficient_balance"
    server.refresh_from_db()
    push.refresh_from_db()
    assert server.owner == customer and push.state == PushState.OFFERED  # nothing moved
    assert Subscription.objects.get(server=server).customer == customer
    assert refused("server.push_accept").get().owner == other_customer


def spend_all(customer):
    from wuji.billing.services import charge

    charge(customer, amount=ledger.balances(customer)["cash"], key=f"spend:{customer.pk}", cause=("test", 1))


def test_payg_usage_up_to_the_push_is_the_senders_and_the_meter_moves(machine, customer, other_customer,
                                                                       catalogue):
    meter = buy(customer, catalogue)  # 0.06 元/h running
    machine.shift(HOUR)
    accept(offer(meter.server), other_customer)
    meter.refresh_from_db()
    assert meter.customer == other_customer and meter.metered_until == START + HOUR
    assert meter.accrued == 0 and meter.charged_fen == 6
    assert ledger.balances(customer)["cash"] == 100_00 - 6
    assert Transaction.objects.get(idempotency_key__startswith="push:", customer=customer).memo.startswith("按量")


# --- Refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login, code, message", [
    ("nobody@example.com", "receiver_unknown", "没有找到该账户"),
    ("alice@example.com", "receiver_is_sender", "不能把服务器转让给自己"),
])
def test_unknown_or_self_receiver_is_refused_and_recorded(server, other_customer, login, code, message):
    with pytest.raises(pushes.PushRefused, match=message) as exc:
        offer(server, login)
    assert exc.value.code == code
    assert not ServerPush.objects.exists()
    assert refused("server.push_offer").get().detail.startswith(message)


def test_receiver_not_verified_is_refused_where_the_region_requires_it(server, settings):
    testing.make_customer("anon@example.com", verified=False)
    with pytest.raises(pushes.PushRefused, match="尚未完成实名认证") as exc:
        offer(server, "anon@example.com")
    assert exc.value.code == "receiver_not_verified"
    settings.WUJI_REAL_NAME_REQUIRED_REGIONS = "none"
    assert offer(server, "anon@example.com", key="o2").state == PushState.OFFERED


def test_frozen_receiver_is_refused(server, other_customer):
    freezes.freeze_funds(customer=other_customer, staff=staff("compliance@wuji.test", "compliance"),
                         reason="abnormal_activity", outcome="long_term", amount_fen=10_00, evidence="异常交易")
    with pytest.raises(pushes.PushRefused, match="冻结或限制") as exc:
        offer(server)
    assert exc.value.code == "receiver_restricted"


def test_restricted_receiver_is_refused_even_after_the_offer(server, other_customer):
    push = offer(server)
    restrict(other_customer, staff("compliance@wuji.test", "compliance"))
    with pytest.raises(pushes.PushRefused, match="冻结或限制"):
        accept(push, other_customer)
    server.refresh_from_db()
    assert server.owner != other_customer


def test_suspended_server_is_refused(server, other_customer):
    compute.suspend(server, reason=SuspensionReason.ABUSE, actor=None, channel="staff")
    testing.run_tasks()
    with pytest.raises(pushes.PushRefused, match="已暂停服务") as exc:
        offer(server)
    assert exc.value.code == "server_suspended"


def test_server_in_arrears_is_refused(machine, catalogue, other_customer, settings):
    settings.WUJI_PAYG_MIN_BALANCE_FEN = 100
    poor = testing.make_customer("carol@example.com", balance_fen=150)
    meter = buy(poor, catalogue, plan=catalogue["plan"].__class__.objects.get(code="s4"))  # 0.40 元/h
    machine.shift(4 * HOUR)
    from wuji.billing import payg

    payg.settle()
    assert Meter.objects.get(pk=meter.pk).debt_fen == 10
    with pytest.raises(pushes.PushRefused, match="欠费") as exc:
        offer(meter.server)
    assert exc.value.code == "server_in_arrears"


def test_operation_in_flight_refuses_the_offer_and_the_acceptance(server, other_customer):
    operate(server, Operation.REBOOT)
    with pytest.raises(pushes.PushRefused, match="操作正在进行") as exc:
        offer(server)
    assert exc.value.code == "operation_in_progress"
    testing.run_tasks()
    push = offer(server, key="o2")
    operate(server, Operation.STOP)
    with pytest.raises(pushes.PushRefused, match="操作正在进行"):
        accept(push, other_customer)
    testing.run_tasks()
    assert accept(push, other_customer).state == PushState.ACCEPTED  # the offer stayed open


def test_one_open_offer_per_server(server, other_customer, catalogue):
    testing.make_customer("dave@example.com")
    offer(server)
    with pytest.raises(pushes.PushRefused, match="已有一个待接收的转让") as exc:
        offer(server, "dave@example.com", key="o2")
    assert exc.value.code == "already_offered"
    assert offer(server, key="o1").pk == ServerPush.objects.get().pk  # the same key replays the first offer


def test_offer_lapses_after_72_hours(server, customer, other_customer, machine):
    push = offer(server)
    machine.shift(72 * HOUR - dt.timedelta(seconds=1))
    assert pushes.expire_due() == 0
    machine.shift(dt.timedelta(seconds=1))
    with pytest.raises(pushes.PushRefused, match="超过接收期限") as exc:
        accept(push, other_customer)
    assert exc.value.code == "push_expired"
    push.refresh_from_db()
    assert push.state == PushState.EXPIRED  # closed at once, not left for the job
    assert pushes.expire_due() == 0
    assert notices(customer, "compute.push_expired").count() == 1
    assert Instruction.objects.get(action="server.push_expire").owner == customer
    server.refresh_from_db()
    assert server.owner == customer


def test_periodic_job_expires_due_offers(server, customer, other_customer, machine):
    push = offer(server)
    machine.shift(73 * HOUR)
    from wuji.compute import push_tasks

    push_tasks.expire_pushes.enqueue()
    testing.run_tasks()
    push.refresh_from_db()
    assert push.state == PushState.EXPIRED and push.closed_at == START + 73 * HOUR
    assert push.offer_instruction.outcomes.get().result == "failed"


def test_only_the_receiver_accepts_or_declines_and_only_the_sender_cancels(server, customer, other_customer):
    push = offer(server)
    intruder = testing.make_customer("eve@example.com")
    for act in (pushes.accept, pushes.decline):
        with pytest.raises(pushes.PushRefused) as exc:
            act(push=push, actor=intruder, channel="web", ip=None)
        assert exc.value.code == "not_found"
    with pytest.raises(pushes.PushRefused):
        pushes.cancel(push=push, actor=other_customer, channel="web", ip=None)
    assert not pushes.incoming_of(intruder).exists() and not pushes.outgoing_of(other_customer).exists()


def test_decline_and_cancel_close_the_offer_and_tell_the_other_side(server, customer, other_customer):
    first = offer(server)
    pushes.decline(push=first, actor=other_customer, channel="web", ip=None)
    assert pushes.decline(push=first, actor=other_customer, channel="web", ip=None).state == PushState.DECLINED
    assert notices(customer, "compute.push_declined").count() == 1
    second = offer(server, key="o2")  # a closed offer no longer blocks a new one
    pushes.cancel(push=second, actor=customer, channel="web", ip=None)
    assert notices(other_customer, "compute.push_cancelled").count() == 1
    with pytest.raises(pushes.PushRefused, match="已结束"):
        accept(second, other_customer)
    assert Instruction.objects.filter(action__in=["server.push_decline", "server.push_cancel"],
                                      result="accepted").count() == 2
    server.refresh_from_db()
    assert server.owner == customer


def test_released_server_cannot_be_accepted(server, other_customer):
    push = offer(server)
    compute.release(server, actor=None, channel="system", reason="test")
    testing.run_tasks()
    with pytest.raises(pushes.PushRefused, match="不能转让"):
        accept(push, other_customer)
