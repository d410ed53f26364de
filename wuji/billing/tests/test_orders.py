import pytest

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.compute.choices import PowerState, TaskState, VmState
from wuji.compute.drivers import get_driver
from wuji.core import testing
from wuji.ledger import services as ledger


def buy(customer, catalogue, key="k1", **overrides):
    params = dict(customer=customer, region=catalogue["region"], plan=catalogue["plan"], image=catalogue["image"],
                  cycle="monthly", name="web-1", idempotency_key=key, channel="web", ip="127.0.0.1")
    params.update(overrides)
    return billing.place_order(**params)


def test_order_charges_price_in_force_and_provisions(customer, catalogue):
    order, password = buy(customer, catalogue)
    assert order.amount_fen == 2900
    assert password and len(password) == 16
    assert ledger.balances(customer)["cash"] == 100_00 - 2900
    server = order.server
    assert (server.vm_state, server.task_state) == (VmState.BUILDING, TaskState.SPAWNING)

    testing.run_tasks()

    server.refresh_from_db()
    assert (server.vm_state, server.task_state, server.power_state) == (VmState.ACTIVE, "", PowerState.RUNNING)
    assert str(server.uuid) in get_driver(testing.FAKE_NODE_URI).list_instances()
    outcome = Instruction.objects.get(refers_to__action="order.place")
    assert outcome.result == "succeeded"
    assert ledger.verify() == []
    assert customer.notices.filter(event__startswith="compute.").get().event == "compute.server_ready"


def test_same_idempotency_key_returns_first_order_and_charges_once(customer, catalogue):
    first, _ = buy(customer, catalogue, key="same")
    again, password = buy(customer, catalogue, key="same")
    assert again.pk == first.pk and password is None
    assert ledger.balances(customer)["cash"] == 100_00 - 2900


def test_insufficient_balance_is_refused_and_writes_nothing(catalogue):
    poor = testing.make_customer("poor@example.com", balance_fen=1000)
    with pytest.raises(billing.PurchaseRefused, match="余额不足"):
        buy(poor, catalogue)
    assert ledger.balances(poor)["cash"] == 1000
    assert not poor.orders.exists() and not poor.servers.exists()


def test_gift_is_spent_before_cash(customer, catalogue):
    ledger.post(key="gift-1", kind="gift", legs=[("expense:gift", -1000), (f"cust:{customer.pk}:gift", 1000)],
                customer=customer)
    buy(customer, catalogue)
    assert ledger.balances(customer) == {"cash": 100_00 - 1900, "gift": 0, "frozen": 0}


def test_changed_price_is_refused(customer, catalogue):
    with pytest.raises(billing.PurchaseRefused, match="价格已变更"):
        buy(customer, catalogue, expected_amount=1)


def test_region_without_node_is_sold_out(customer, catalogue):
    with pytest.raises(billing.PurchaseRefused):
        buy(customer, catalogue, region=catalogue["hk"])
    assert ledger.balances(customer)["cash"] == 100_00


def test_failed_spawn_leaves_server_in_error_with_message(customer, catalogue):
    from wuji.compute.drivers.base import DriverError

    order, _ = buy(customer, catalogue)
    get_driver(testing.FAKE_NODE_URI).fail_next("spawn", DriverError("宿主机资源不足"))
    # Run tasks up to the provisioning only (the refund and release that follow: test_subscriptions.py).
    while order.server.vm_state == VmState.BUILDING and testing.run_tasks(max_tasks=1):
        order.server.refresh_from_db()
    assert order.server.vm_state == VmState.ERROR and order.server.task_state == ""
    assert "宿主机资源不足" in order.server.last_error
    assert Instruction.objects.get(refers_to__action="order.place").result == "failed"
    notice = customer.notices.filter(event__startswith="compute.").get()
    assert notice.event == "compute.server_failed" and "宿主机资源不足" in notice.body


def test_order_takes_the_price_row_in_force_at_order_time(customer, catalogue):
    import datetime as dt

    from wuji.catalog.models import Price
    from wuji.core import clock

    region, plan = catalogue["region"], catalogue["plan"]
    Price.objects.create(plan=plan, region=region, cycle="monthly", amount_fen=3300,
                         effective_from=clock.now() - dt.timedelta(seconds=1))
    Price.objects.create(plan=plan, region=region, cycle="monthly", amount_fen=9900,
                         effective_from=clock.now() + dt.timedelta(days=1))
    order, _ = buy(customer, catalogue)
    assert order.amount_fen == 3300 and order.price.amount_fen == 3300
    assert ledger.balances(customer)["cash"] == 100_00 - 3300


def test_changing_a_plan_later_never_changes_a_paid_server(customer, catalogue):
    order, _ = buy(customer, catalogue)
    plan = catalogue["plan"]
    type(plan).objects.filter(pk=plan.pk).update(vcpus=8, memory_mib=16384, disk_gib=500)
    order.server.refresh_from_db()
    assert (order.server.vcpus, order.server.memory_mib, order.server.disk_gib) == (1, 1024, 20)
