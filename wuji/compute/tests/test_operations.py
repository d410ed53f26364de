import datetime as dt
import threading

import pytest
from django.db import connection

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.compute import services as compute
from wuji.compute import tasks
from wuji.compute.choices import Operation, PowerState, TaskState, VmState
from wuji.compute.drivers import get_driver
from wuji.compute.drivers.base import DriverError
from wuji.compute.models import Server
from wuji.core import clock, testing


def active_server(customer, catalogue, key="k") -> Server:
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="s", idempotency_key=key,
                                   channel="web", ip="127.0.0.1")
    testing.run_tasks()
    order.server.refresh_from_db()
    assert order.server.vm_state == VmState.ACTIVE
    return order.server


def operate(server, operation, **kwargs):
    return compute.request_operation(server=server, operation=operation, actor=server.owner, channel="web",
                                     ip="127.0.0.1", **kwargs)


def fake():
    return get_driver(testing.FAKE_NODE_URI)


def test_stop_then_start_runs_on_the_hypervisor_and_records_outcomes(customer, catalogue):
    server = active_server(customer, catalogue)
    instruction, password = operate(server, Operation.STOP)
    assert password is None
    server.refresh_from_db()
    assert server.task_state == TaskState.STOPPING
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.vm_state, server.task_state, server.power_state) == (VmState.STOPPED, "", PowerState.SHUTDOWN)
    assert fake().get_info(str(server.uuid)).power_state == PowerState.SHUTDOWN
    assert instruction.outcomes.get().result == "succeeded"
    operate(server, Operation.START)
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.ACTIVE and server.power_state == PowerState.RUNNING


def test_second_operation_while_one_is_in_flight_is_refused_and_recorded(customer, catalogue):
    server = active_server(customer, catalogue)
    operate(server, Operation.REBOOT)
    with pytest.raises(compute.OperationRefused, match="正在进行"):
        operate(server, Operation.REBOOT_HARD)
    refused = Instruction.objects.get(action="server.reboot_hard")
    assert refused.result == "refused" and "正在进行" in refused.detail
    testing.run_tasks()
    server.refresh_from_db()
    assert server.task_state == "" and server.vm_state == VmState.ACTIVE


@pytest.mark.parametrize("operation", [Operation.START, Operation.REBOOT])
def test_operation_not_allowed_in_state_is_refused(customer, catalogue, operation):
    server = active_server(customer, catalogue)
    if operation == Operation.REBOOT:
        operate(server, Operation.STOP)
        testing.run_tasks()
    with pytest.raises(compute.OperationRefused, match="不允许"):
        operate(server, operation)


def test_building_server_accepts_no_operation(customer, catalogue):
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="s", idempotency_key="b",
                                   channel="web", ip=None)
    with pytest.raises(compute.OperationRefused):
        operate(order.server, Operation.STOP)


def test_reinstall_gives_a_fresh_disk_from_the_chosen_image_and_a_new_password(customer, catalogue):
    server = active_server(customer, catalogue)
    disk_before = fake().disks[str(server.uuid)]
    instruction, password = operate(server, Operation.REINSTALL, image=catalogue["other_image"])
    assert password and len(password) == 16
    assert password not in str(instruction.params)
    testing.run_tasks()
    server.refresh_from_db()
    disk_after = fake().disks[str(server.uuid)]
    assert disk_after is not disk_before
    assert disk_after.image == catalogue["other_image"].volume
    assert server.image == catalogue["other_image"] and server.vm_state == VmState.ACTIVE


def test_failed_operation_leaves_server_consistent_with_the_error_saved(customer, catalogue):
    server = active_server(customer, catalogue)
    operate(server, Operation.REBOOT)
    fake().fail_next("reboot", DriverError("虚拟化平台繁忙，请稍后重试"))
    testing.run_tasks()
    server.refresh_from_db()
    assert server.task_state == "" and server.vm_state == VmState.ACTIVE  # the hypervisor says it still runs
    assert "繁忙" in server.last_error
    assert Instruction.objects.get(action="server.reboot", refers_to__isnull=False).result == "failed"


def test_reconciler_takes_power_state_from_the_hypervisor(customer, catalogue):
    server = active_server(customer, catalogue)
    fake().power_off(str(server.uuid), timeout=0)  # the guest shut itself down
    tasks.reconcile.call()
    server.refresh_from_db()
    assert (server.vm_state, server.power_state) == (VmState.STOPPED, PowerState.SHUTDOWN)


def test_reconciler_does_not_write_back_a_state_an_operation_replaced_meanwhile(customer, catalogue, monkeypatch):
    """The reconciler asks the node, then writes the answer where the record differs. A stop accepted and carried
    out by a worker between the question and the write (several workers, a loaded machine) must not be undone by
    the older answer: the server stays stopped, as it is on the node."""
    server = active_server(customer, catalogue)
    driver = fake()
    node_answer = driver.get_info

    def answer_then_a_stop_runs(uuid):
        info = node_answer(uuid)  # running
        monkeypatch.setattr(driver, "get_info", node_answer)
        operate(Server.objects.get(pk=server.pk), Operation.STOP)
        assert testing.run_tasks() == 1
        return info

    monkeypatch.setattr(driver, "get_info", answer_then_a_stop_runs)
    tasks.reconcile.call()
    server.refresh_from_db()
    assert (server.vm_state, server.power_state) == (VmState.STOPPED, PowerState.SHUTDOWN)
    assert driver.get_info(str(server.uuid)).power_state == PowerState.SHUTDOWN
    tasks.reconcile.call()  # the next pass agrees
    server.refresh_from_db()
    assert (server.vm_state, server.power_state) == (VmState.STOPPED, PowerState.SHUTDOWN)


def test_reconciler_recovers_an_operation_whose_worker_died(customer, catalogue):
    server = active_server(customer, catalogue)
    instruction, _ = operate(server, Operation.STOP)
    # The worker died: the task never runs. After the timeout the reconciler settles the server.
    Server.objects.filter(pk=server.pk).update(task_state_changed_at=clock.now() - dt.timedelta(hours=1))
    counts = tasks.reconcile.call()
    server.refresh_from_db()
    assert counts["recovered"] == 1
    assert server.task_state == "" and server.vm_state == VmState.ACTIVE
    assert instruction.outcomes.get().result == "failed"
    assert testing.run_tasks() == 1  # the late task finds nothing to do
    server.refresh_from_db()
    assert server.vm_state == VmState.ACTIVE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operations_racing_on_one_server_exactly_one_wins():
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("race@example.com", balance_fen=10_000)
    server = active_server(customer, catalogue)
    barrier = threading.Barrier(8)
    outcomes = []

    def attempt(op):
        try:
            barrier.wait()
            operate(server, op, **({"image": catalogue["image"]} if op == Operation.REINSTALL else {}))
            outcomes.append("won")
        except compute.OperationRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    ops = [Operation.REBOOT, Operation.REBOOT_HARD, Operation.STOP, Operation.REINSTALL] * 2
    threads = [threading.Thread(target=attempt, args=(op,)) for op in ops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["won"]
    assert Instruction.objects.filter(action__startswith="server.", result="accepted").count() == 1
