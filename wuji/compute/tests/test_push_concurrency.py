"""Server push under real concurrency (PostgreSQL): an acceptance races a second acceptance, an operation of the
old owner, and a renewal of the old owner. Exactly one side wins each time, money moves once, no deadlock."""

import threading

import pytest
from django.db import connection

from wuji.billing import renewals
from wuji.billing.models import Subscription
from wuji.compute import push as pushes
from wuji.compute import services as compute
from wuji.compute.choices import Operation
from wuji.compute.models import Server
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction
from wuji.network import services as network
from wuji.network.models import IpAllocation, IpPool

from .test_operations import active_server
from .test_push import set_fee

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls) -> list[str]:
    """Run the calls at the same moment, each on its own connection; returns 'ok' or the refusal's class name."""
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test asserts on
            outcomes[index] = type(exc).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def setup():
    catalogue = testing.load_test_catalogue()
    set_fee(3_00)
    network.save_pool(IpPool(name="p1", region=catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1"),
                      actor=None, channel="staff")
    alice = testing.make_customer("alice@example.com", balance_fen=100_00)
    bob = testing.make_customer("bob@example.com", balance_fen=100_00)
    server = active_server(alice, catalogue)
    push = pushes.offer(server=server, receiver_login=bob.email, actor=alice, channel="web", ip=None,
                        idempotency_key="o1")
    return alice, bob, server, push


def accept(push, bob):
    return lambda: pushes.accept(push=push, actor=bob, channel="api", ip=None)


def test_two_acceptances_move_the_server_and_the_money_once(setup):
    alice, bob, server, push = setup
    before = ledger.balances(alice)["cash"]
    assert race(accept(push, bob), accept(push, bob)) == ["ok", "ok"]  # the second returns the accepted push
    assert Server.objects.get(pk=server.pk).owner == bob
    assert Transaction.objects.filter(idempotency_key=f"push:{push.pk}:fee").count() == 1
    assert ledger.balances(alice)["cash"] == before - 3_00
    assert IpAllocation.objects.filter(server=server).count() == 2
    assert ledger.verify() == []


def test_acceptance_against_an_operation_of_the_old_owner_one_wins(setup):
    alice, bob, server, push = setup
    stale = Server.objects.get(pk=server.pk)  # the old owner's page, loaded before the push

    def reboot():
        compute.request_operation(server=stale, operation=Operation.REBOOT, actor=alice, channel="web", ip=None)

    outcomes = race(accept(push, bob), reboot)
    assert sorted(outcomes) == ["PushRefused", "ok"] or sorted(outcomes) == ["OperationRefused", "ok"]
    server.refresh_from_db()
    if outcomes[0] == "ok":  # pushed: the old owner's reboot was refused, nothing is in flight
        assert server.owner == bob and server.task_state == ""
    else:  # rebooting: the push waits for it, the offer stays open
        assert server.owner == alice and server.task_state == "rebooting"
        push.refresh_from_db()
        assert push.state == "offered"


def test_acceptance_against_a_renewal_of_the_old_owner_never_charges_the_receiver(setup):
    alice, bob, server, push = setup
    sub = Subscription.objects.get(server=server)
    bob_before = ledger.balances(bob)["cash"]

    def renew():
        renewals.renew(sub, cycles=1, expected_period_end=sub.period_end, actor=alice, channel="web")

    outcomes = race(accept(push, bob), renew)
    assert outcomes[0] == "ok" and outcomes[1] in ("ok", "RenewalRefused")
    sub.refresh_from_db()
    assert sub.customer == bob and ledger.balances(bob)["cash"] == bob_before
    assert ledger.verify() == []
