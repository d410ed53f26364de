"""Compute tasks: the only code that talks to hypervisors. Each is idempotent and leaves the server
consistent: task_state cleared, vm_state what the hypervisor says (error only if it cannot say)."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.catalog.models import Image
from wuji.core import clock, crypto
from wuji.core.scheduler import periodic
from wuji.notifications import services as notifications

from . import notices, services, snapshots
from .choices import Operation, PowerState, TaskState, VmState
from .drivers import get_driver
from .drivers.base import (
    DriverError,
    GuestAgentUnavailable,
    ImageRef,
    InstanceNotFound,
    InstanceSpec,
    InvalidImage,
    NodeUnreachable,
    NotSupported,
)
from .models import Node, Server
from .signals import provisioning_failed

log = logging.getLogger(__name__)
ROOT_USER = "root"


def driver_for(node: Node):
    return get_driver(node.uri, virt_type=node.virt_type, pool=node.storage_pool,
                      console_address=node.console_address)


def instance_spec(server: Server, image: Image, password: str | None,
                  ssh_keys: list[str] | None = None) -> InstanceSpec:
    return InstanceSpec(
        uuid=str(server.uuid), name=server.name, vcpus=server.vcpus, memory_mib=server.memory_mib,
        disk_gib=server.disk_gib,
        image=ImageRef(volume=image.volume, os_family=image.os_family, kernel=image.kernel_volume,
                       initrd=image.initrd_volume, cmdline=image.kernel_cmdline),
        root_password=password, ssh_keys=tuple(ssh_keys or ()),
    )


def customer_error(exc: DriverError) -> str:
    """What the customer reads about a failed operation (Chinese first). The driver's own wording stays in
    `detail`, for the log and staff; a message a caller chose on purpose is kept as it is."""
    for kind, message in (
        (GuestAgentUnavailable, _("服务器内的 QEMU 客户机代理（qemu-guest-agent）没有响应，密码未修改。请在服务器内"
                                  "安装并启动 qemu-guest-agent 后重试，或通过重装系统设置新密码。")),
        (NodeUnreachable, _("服务器所在的宿主机暂时无法连接，操作未完成，请稍后重试。")),
        (InstanceNotFound, _("宿主机上找不到该服务器，请联系客服。")),
        (InvalidImage, _("所选镜像在服务器所在的宿主机上不可用，请选择其他镜像或联系客服。")),
    ):
        if isinstance(exc, kind):
            return str(message)
    if exc.message == exc.default_message:
        return _("宿主机执行操作失败，请稍后重试；如果一直失败，请联系客服。")
    return exc.message


def vm_state_for(power_state: str) -> str:
    return VmState.ACTIVE if power_state == PowerState.RUNNING else VmState.STOPPED


def finish(server: Server, instruction_id: int | None, *, vm_state, power_state, error: str = "", image=None,
           suspension_reason: str = ""):
    """End an operation: clear task_state, record what is now true and the instruction's outcome, atomically.
    Shared by every compute task (operations, snapshots, migration)."""
    with transaction.atomic():
        services.finish_operation(server.pk, vm_state=vm_state, power_state=power_state, error=error, image=image,
                                  suspension_reason=suspension_reason)
        instruction = Instruction.objects.filter(pk=instruction_id).first() if instruction_id else None
        if instruction is not None:
            audit.record_outcome(instruction, succeeded=not error, detail=error)


def state_after_failure(driver, server: Server) -> tuple[str, str]:
    """After a failed driver call: the (vm_state, power_state) the hypervisor reports, or error if it cannot say."""
    try:
        power = driver.get_info(str(server.uuid)).power_state
    except DriverError:
        return VmState.ERROR, PowerState.NOSTATE
    return vm_state_for(power), power


@task()
def provision_server(server_id: int, instruction_id: int | None = None, password_token: str | None = None) -> str:
    """Spawn a paid server on its node. Running it again after success does nothing."""
    server = Server.objects.select_related("node", "image", "owner", "region").get(pk=server_id)
    if server.task_state != TaskState.SPAWNING:
        return "nothing to do"
    driver = driver_for(server.node)
    password = crypto.decrypt(password_token) if password_token else None
    try:
        if str(server.uuid) not in driver.list_instances():
            driver.spawn(instance_spec(server, server.image, password))
        power = driver.get_info(str(server.uuid)).power_state
    except DriverError as exc:
        log.warning("spawn of %s failed: %s", server.uuid, getattr(exc, "detail", None) or exc)
        fail_provisioning(server, instruction_id, error=customer_error(exc), detail=str(exc))
        return "failed"
    with transaction.atomic():
        finish(server, instruction_id, vm_state=vm_state_for(power), power_state=power)
        notifications.notify(server.owner, notices.SERVER_READY.code, _notice_context(server))
    return "spawned"


def fail_provisioning(server: Server, instruction_id: int | None, *, error: str, detail: str) -> None:
    """The server could not be created: error state, the order's outcome, the customer told, and billing's
    refund enqueued, all in one transaction (a spawn that failed, or one whose worker died)."""
    with transaction.atomic():
        finish(server, instruction_id, vm_state=VmState.ERROR, power_state=PowerState.NOSTATE, error=error)
        notifications.notify(server.owner, notices.SERVER_FAILED.code, {**_notice_context(server), "error": error})
        provisioning_failed.send(sender=Server, server_id=server.pk, error=detail)


def _provisioning_instruction(server: Server) -> int | None:
    """The order instruction a provisioning carries: it has no server target, only the task's arguments."""
    from django_tasks_db.models import DBTaskResult

    args = (DBTaskResult.objects.filter(task_path=f"{__name__}.provision_server",
                                        args_kwargs__kwargs__server_id=server.pk)
            .values_list("args_kwargs", flat=True).first())
    return ((args or {}).get("kwargs") or {}).get("instruction_id")


def _notice_context(server: Server) -> dict:
    return {"name": server.name, "uuid": str(server.uuid), "region": server.region.name_zh}


@task()
def run_operation(server_id: int, operation: str, instruction_id: int, image_id: int | None = None,
                  password_token: str | None = None, ssh_keys: list[str] | None = None) -> str:
    """Carry out one accepted instruction on the hypervisor."""
    server = Server.objects.select_related("node", "image").get(pk=server_id)
    if server.task_state != Operation.TASK_STATE[operation]:
        return "nothing to do"  # already finished (a retried task) or recovered by the reconciler
    driver = driver_for(server.node)
    uuid = str(server.uuid)
    password = crypto.decrypt(password_token) if password_token else None
    image = None
    try:
        if operation == Operation.START:
            driver.power_on(uuid)
        elif operation == Operation.STOP:
            driver.power_off(uuid, timeout=settings.WUJI_STOP_TIMEOUT_SECONDS)
        elif operation in (Operation.REBOOT, Operation.REBOOT_HARD):
            driver.reboot(uuid, hard=operation == Operation.REBOOT_HARD)
        elif operation == Operation.REINSTALL:
            image = Image.objects.get(pk=image_id)
            try:
                driver.rebuild(instance_spec(server, image, password, ssh_keys))
            finally:  # success or failure: the snapshots the old disk took with it are gone
                snapshots.after_reinstall(driver, server)
        elif operation == Operation.RESET_PASSWORD:
            driver.set_password(uuid, ROOT_USER, password)
        power = driver.get_info(uuid).power_state
    except DriverError as exc:
        log.warning("%s of %s failed: %r", operation, uuid, exc)
        vm_state, power = state_after_failure(driver, server)
        finish(server, instruction_id, vm_state=vm_state, power_state=power, error=customer_error(exc))
        return "failed"
    finish(server, instruction_id, vm_state=vm_state_for(power), power_state=power, image=image)
    return "done"


@task()
def suspend_server(server_id: int, reason: str, instruction_id: int) -> str:
    """Power a server off (ACPI, then force after the timeout) and mark it suspended with its reason.

    The suspension stands even if the hypervisor cannot be reached: billing has stopped the service, and
    the reconciler or staff deal with the machine itself; the error is kept for staff."""
    server = Server.objects.select_related("node").get(pk=server_id)
    if server.task_state != TaskState.SUSPENDING:
        return "nothing to do"
    driver = driver_for(server.node)
    error = ""
    try:
        driver.power_off(str(server.uuid), timeout=settings.WUJI_STOP_TIMEOUT_SECONDS)
        power = driver.get_info(str(server.uuid)).power_state
    except InstanceNotFound:
        power = PowerState.NOSTATE
    except DriverError as exc:
        error, power = str(exc), PowerState.NOSTATE
    finish(server, instruction_id, vm_state=VmState.SUSPENDED, power_state=power, error=error,
            suspension_reason=reason)
    return "failed" if error else "suspended"


@task()
def resume_server(server_id: int, instruction_id: int) -> str:
    """Lift a suspension: start the server again."""
    server = Server.objects.select_related("node").get(pk=server_id)
    if server.task_state != TaskState.RESUMING:
        return "nothing to do"
    driver = driver_for(server.node)
    try:
        driver.power_on(str(server.uuid))
        power = driver.get_info(str(server.uuid)).power_state
    except DriverError as exc:
        vm_state, power = state_after_failure(driver, server)
        finish(server, instruction_id, vm_state=vm_state, power_state=power, error=customer_error(exc))
        return "failed"
    finish(server, instruction_id, vm_state=vm_state_for(power), power_state=power)
    return "resumed"


@task()
def resize_server(server_id: int, instruction_id: int) -> str:
    """Apply the server's recorded size to its stopped instance (persistent definition; effective at the next
    boot). A node that cannot grow disks still gets the vCPUs and memory; the disk is reported for staff."""
    server = Server.objects.select_related("node").get(pk=server_id)
    if server.task_state != TaskState.RESIZING:
        return "nothing to do"
    driver = driver_for(server.node)
    uuid = str(server.uuid)
    error = ""
    try:
        try:
            driver.resize(uuid, server.vcpus, server.memory_mib, disk_gib=server.disk_gib)
        except NotSupported as exc:
            driver.resize(uuid, server.vcpus, server.memory_mib)
            log.warning("disk of %s not grown: %s", uuid, exc)
            error = _("配置已变更，但该宿主机不支持扩容云盘，云盘容量暂未扩大；工作人员会尽快处理。")
        power = driver.get_info(uuid).power_state
    except DriverError as exc:
        vm_state, power = state_after_failure(driver, server)
        finish(server, instruction_id, vm_state=vm_state, power_state=power, error=customer_error(exc))
        return "failed"
    finish(server, instruction_id, vm_state=vm_state_for(power), power_state=power, error=error)
    return "partly" if error else "resized"


@task()
def release_server(server_id: int, instruction_id: int) -> str:
    """Destroy the server and its disk. Retried until the hypervisor confirms (destroy is idempotent)."""
    server = Server.objects.select_related("node").get(pk=server_id)
    if server.task_state != TaskState.RELEASING:
        return "nothing to do"
    try:
        driver_for(server.node).destroy(str(server.uuid))
    except DriverError as exc:
        # Keep task_state so the reconciler's timeout recovery (or staff) retries; the customer's data is
        # not reported gone until it is.
        Server.objects.filter(pk=server.pk).update(last_error=str(exc)[:500])
        return "failed"
    snapshots.forget_missing(server, None)  # destroy took them with the disk
    finish(server, instruction_id, vm_state=VmState.RELEASED, power_state=PowerState.NOSTATE)
    return "released"


@periodic("compute.reconcile", every=dt.timedelta(minutes=1))
@task()
def reconcile() -> dict:
    """Sync power state from the hypervisors (the authority) and recover operations whose worker died."""
    stuck_before = clock.now() - dt.timedelta(seconds=settings.WUJI_OPERATION_TIMEOUT_SECONDS)
    counts = {"synced": 0, "recovered": 0}
    for node in Node.objects.all():
        servers = list(Server.objects.filter(node=node).exclude(vm_state__in=[VmState.RELEASED, VmState.BUILDING,
                                                                                VmState.SUSPENDED])
                       .exclude(task_state__gt="", task_state_changed_at__gte=stuck_before))
        stuck = list(Server.objects.filter(node=node, task_state__gt="", task_state_changed_at__lt=stuck_before))
        if not servers and not stuck:
            continue
        driver = driver_for(node)
        for server in servers:
            if server.task_state:
                continue
            try:
                power = driver.get_info(str(server.uuid)).power_state
            except InstanceNotFound:
                power = PowerState.NOSTATE
            except NodeUnreachable:
                break  # keep what we last knew, and do not pay a connection attempt per server (decision 0053)
            except DriverError:
                continue  # keep what we last knew
            vm_state = VmState.ERROR if power == PowerState.NOSTATE else vm_state_for(power)
            with transaction.atomic():
                # Only over the state read before asking the node: an operation that ran meanwhile wrote a newer
                # one, which the answer (possibly from before it) must not overwrite.
                updated = Server.objects.filter(
                    pk=server.pk, task_state=TaskState.NONE, vm_state=server.vm_state, power_state=server.power_state,
                ).exclude(vm_state=vm_state, power_state=power).update(vm_state=vm_state, power_state=power)
                if updated:
                    services.state_written(server.pk, vm_state, power)
            counts["synced"] += updated
        for server in stuck:
            counts["recovered"] += _recover(driver, server)
    return counts


def _recover(driver, server: Server) -> int:
    """An operation outlived its timeout (its worker died): settle the server from the hypervisor.

    A suspension stays a suspension (the decision was billing's or staff's, not the worker's) and an
    interrupted release is simply run again (destroy is idempotent)."""
    claim = Server.objects.filter(pk=server.pk, task_state=server.task_state,
                                  task_state_changed_at=server.task_state_changed_at)
    pending = (Instruction.objects.filter(target_type="server", target_id=str(server.pk), result="accepted",
                                          outcomes__isnull=True).order_by("-seq").first())
    if server.task_state == TaskState.MIGRATING:  # a long disk copy beats its own heartbeat; this one died
        resumed = migration.resume_after_worker_died(server, claim)
        if resumed is not None:
            return int(resumed)
    if server.task_state == TaskState.RELEASING:
        with transaction.atomic():
            updated = claim.update(task_state_changed_at=clock.now())
            if updated and pending is not None:
                release_server.enqueue(server_id=server.pk, instruction_id=pending.pk)
        return updated
    if server.task_state == TaskState.SPAWNING:
        return _recover_provisioning(driver, server, claim)
    vm_state, power = state_after_failure(driver, server)
    reason = ""
    if server.task_state == TaskState.SUSPENDING:
        vm_state, reason = VmState.SUSPENDED, server.suspension_reason
    with transaction.atomic():
        updated = claim.update(
            task_state=TaskState.NONE, task_state_changed_at=None, vm_state=vm_state, power_state=power,
            suspension_reason=reason, last_error=_("操作超时，已根据虚拟化平台状态恢复。"))
        if updated:
            services.state_written(server.pk, vm_state, power)
            snapshots.recover(driver, server, server.task_state)
        if updated and pending is not None:
            audit.record_outcome(pending, succeeded=False, detail="operation timed out; recovered by the reconciler")
    return updated


def _recover_provisioning(driver, server: Server, claim) -> int:
    """A provisioning whose worker died: a guest the hypervisor has is the customer's server (active, as a
    finished spawn would leave it); no guest is a failed provisioning, refunded by billing's usual path,
    never a server left in error with the money kept."""
    instruction_id = _provisioning_instruction(server)
    try:
        power = driver.get_info(str(server.uuid)).power_state
    except InstanceNotFound:
        power = None
    except DriverError:
        return 0  # node unreachable: whether the guest exists is unknown, try again on the next pass
    with transaction.atomic():
        if not claim.update(task_state_changed_at=clock.now()):  # another reconciler took it
            return 0
        if power is None:
            fail_provisioning(server, instruction_id, error=_("操作超时，云服务器创建失败。"),
                              detail="provisioning timed out; recovered by the reconciler")
        else:
            finish(server, instruction_id, vm_state=vm_state_for(power), power_state=power)
            notifications.notify(server.owner, notices.SERVER_READY.code, _notice_context(server))
    return 1


# --- issue 5: metrics — node health and server metrics (decision 0026) ------------------------------------------


@periodic("compute.check_nodes", every=dt.timedelta(seconds=settings.WUJI_NODE_CHECK_SECONDS))
@task()
def check_nodes() -> dict:
    """Record each node's health: reachable, hypervisor version, free capacity, or the error."""
    from . import nodes

    return nodes.check_nodes(Node.objects.all(), now=clock.now())


@periodic("compute.collect_metrics", every=dt.timedelta(seconds=settings.WUJI_METRICS_INTERVAL_SECONDS))
@task()
def collect_metrics() -> dict:
    """Store one sample of every running server's counters (one bulk call per node, one bulk write)."""
    from . import metrics

    return vars(metrics.collect())


@periodic("compute.purge_metrics", every=dt.timedelta(hours=1))
@task()
def purge_metrics() -> int:
    """Delete samples older than WUJI_METRICS_RETENTION_HOURS, in bounded batches."""
    from . import metrics

    return metrics.purge()


# --- Migration (5.5, 8.6) and server push keep their tasks and periodic jobs in their own modules; importing
# them here registers the periodic jobs. They use this module's helpers, so they are imported last.
from . import migration, push_tasks  # noqa: E402,F401
