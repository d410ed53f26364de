"""Compute services: creating servers and running customers' instructions on them.

Every operation starts with one conditional UPDATE of task_state (compare-and-swap from none), records
the instruction, and enqueues its task in the same transaction; the task talks to the hypervisor.
"""

import datetime as dt

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Result
from wuji.core import clock, crypto

from . import ssh_keys
from .choices import MigrationState, Operation, SuspensionReason, TaskState, VmState
from .models import MigrationItem, Node, NodeHealth, Server
from .signals import server_created, vm_state_written


class OperationRefused(Exception):
    """A customer instruction that cannot run now; the message is shown to the customer."""


class NoCapacity(OperationRefused):
    pass


def servers_of(owner):
    """Every server a customer can reach (owner boundary), newest first."""
    return Server.objects.filter(owner=owner).exclude(vm_state=VmState.RELEASED).select_related(
        "region", "plan", "image"
    )


def place(*, region, vcpus: int, memory_mib: int, disk_gib: int) -> Node:
    """Pick the enabled node in the region with the most free memory that fits (spread), locked.

    A node offers capacity × allocation ratio of each resource; a node whose last health check failed
    gets no new servers. The node rows are locked while the new server is inserted in the caller's
    transaction, so two orders cannot both take the last slot.
    """
    down = NodeHealth.objects.filter(node=OuterRef("pk"), is_reachable=False)
    nodes = list(Node.objects.select_for_update().filter(region=region, is_enabled=True)
                 .filter(~Exists(down)).order_by("id"))
    used = committed_capacity([n.pk for n in nodes])
    best, best_free = None, -1
    for node in nodes:
        u = used.get(node.pk, {})
        free_vcpus = node.allocatable_vcpus - (u.get("vcpus_used") or 0)
        free_memory = node.allocatable_memory_mib - (u.get("memory_used") or 0)
        free_disk = node.allocatable_disk_gib - (u.get("disk_used") or 0)
        if free_vcpus >= vcpus and free_memory >= memory_mib and free_disk >= disk_gib and free_memory > best_free:
            best, best_free = node, free_memory
    if best is None:
        raise NoCapacity(_("该地域资源已售罄，请选择其他地域或稍后再试。"))
    return best


def create_server(*, owner, region, plan, image, name: str, expires_at: dt.datetime,
                  instruction) -> tuple[Server, str]:
    """Create a paid server in `building`/`spawning` and enqueue its provisioning (5.1: only after payment).

    Must run inside the transaction that charged for it. Returns the server and its initial root
    password, which exists only in the return value (shown once) and, encrypted, in the task arguments.
    """
    node = place(region=region, vcpus=plan.vcpus, memory_mib=plan.memory_mib, disk_gib=plan.disk_gib)
    now = clock.now()
    server = Server.objects.create(
        owner=owner, name=name, region=region, plan=plan, image=image, node=node,
        vcpus=plan.vcpus, memory_mib=plan.memory_mib, disk_gib=plan.disk_gib,
        vm_state=VmState.BUILDING, task_state=TaskState.SPAWNING, task_state_changed_at=now,
        created_at=now, expires_at=expires_at,
    )
    server_created.send(sender=Server, server=server)
    from . import tasks

    password = crypto.random_password()
    tasks.provision_server.enqueue(
        server_id=server.pk, instruction_id=instruction.pk, password_token=crypto.encrypt(password)
    )
    return server, password


def request_operation(*, server: Server, operation: str, actor, channel: str, ip: str | None,
                      image=None, factor: str | None = None, ssh_key: str | None = None,
                      new_password: bool = True) -> tuple[object, str | None]:
    """Accept a customer's instruction on a server, or refuse it with a clear reason.

    Reinstall and reset password generate a new root password; a reinstall may instead (new_password
    False) or also install an SSH public key. Returns (instruction, new root password or None). The
    password exists only in the return value and, encrypted, in the task's arguments; it is shown to the
    customer once. The instruction log keeps only the key's fingerprint.
    """
    if operation not in Operation.values():
        raise OperationRefused(_("不支持的操作。"))
    params = {"operation": operation}
    if factor:  # which step-up factor authorised it (clause 3.1.2)
        params["factor"] = factor
    key = _reinstall_params(operation, params, image=image, ssh_key=ssh_key, new_password=new_password)
    password = crypto.random_password() if operation in Operation.GIVES_NEW_PASSWORD and new_password else None
    with transaction.atomic():
        # The owner is compared too: a server pushed to another account meanwhile takes no more orders from
        # the one who loaded it (issue 5: push).
        started = Server.objects.filter(
            pk=server.pk, owner_id=server.owner_id, task_state=TaskState.NONE,
            vm_state__in=Operation.ALLOWED_FROM[operation],
        ).update(task_state=Operation.TASK_STATE[operation], task_state_changed_at=clock.now())
        if started != 1:
            reason = _refusal_reason(server.pk, server.owner_id, operation)
            audit.record(actor=actor, owner=server.owner, channel=channel, action=f"server.{operation}",
                         target=server, params=params, ip=ip, result=Result.REFUSED, detail=reason)
        else:
            instruction = audit.record(actor=actor, owner=server.owner, channel=channel,
                                       action=f"server.{operation}", target=server, params=params, ip=ip)
            from . import tasks

            tasks.run_operation.enqueue(
                server_id=server.pk, operation=operation, instruction_id=instruction.pk,
                image_id=image.pk if image is not None else None,
                password_token=crypto.encrypt(password) if password else None,
                ssh_keys=[key.line] if key is not None else None,
            )
    if started != 1:
        raise OperationRefused(reason)
    return instruction, password


def _reinstall_params(operation: str, params: dict, *, image, ssh_key: str | None,
                      new_password: bool) -> ssh_keys.PublicKey | None:
    """Check what a reinstall needs (an active image; a password, a valid SSH key or both) and add it to the
    instruction's params; an SSH key or a reinstall without a password is refused for other operations."""
    if operation != Operation.REINSTALL:
        if ssh_key or not new_password:
            raise OperationRefused(_("只有重装系统时可以设置 SSH 公钥。"))
        return None
    if image is None or not image.is_active:
        raise OperationRefused(_("请选择可用的系统镜像。"))
    params["image"] = image.code
    if not ssh_key:
        if not new_password:
            raise OperationRefused(_("请提供 SSH 公钥或生成新的 root 密码，否则重装后将无法登录。"))
        return None
    try:
        key = ssh_keys.parse(ssh_key)
    except ssh_keys.InvalidKey as exc:
        raise OperationRefused(str(exc)) from exc
    params["ssh_key_fingerprint"] = key.fingerprint
    params["new_root_password"] = new_password
    return key


def _refusal_reason(server_id: int, owner_id: int, operation: str) -> str:
    return refusal_reason(server_id, Operation.label(operation), owner_id=owner_id)


def refusal_reason(server_id: int, action: str, *, owner_id: int | None = None) -> str:
    """Why a compare-and-swap on the server matched no row: gone from the caller's reach (`owner_id` given:
    pushed to another account meanwhile), an operation in flight, or a state that does not allow `action`
    (its label, shown to the customer)."""
    servers = Server.objects.filter(pk=server_id)
    if owner_id is not None:
        servers = servers.filter(owner_id=owner_id)
    current = servers.values("task_state", "vm_state").first()
    if current is None:
        return _("服务器不存在。")
    if current["task_state"]:
        return _("该服务器有操作正在进行（%(task)s），请等待完成后再试。") % {
            "task": TaskState.label(current["task_state"])
        }
    return _("服务器当前状态（%(state)s）不允许执行“%(op)s”。") % {
        "state": VmState.label(current["vm_state"]), "op": action
    }


def begin_task(server_id: int, task_state: str, *, vm_states) -> bool:
    """Claim a server for an operation another app carries out (network binds and unbinds its public IP): the
    same compare-and-swap as a customer's operation, so it never overlaps one. The caller's task ends it with
    finish_operation."""
    return bool(Server.objects.filter(pk=server_id, task_state=TaskState.NONE, vm_state__in=list(vm_states)).update(
        task_state=task_state, task_state_changed_at=clock.now()))


def finish_operation(server_id: int, *, vm_state: str | None, power_state: str | None, error: str = "",
                     image=None, suspension_reason: str = "") -> None:
    """Clear task_state at the end of an operation, success or failure, recording what is now true."""
    fields = {"task_state": TaskState.NONE, "task_state_changed_at": None, "last_error": error[:500]}
    if vm_state:
        fields["vm_state"] = vm_state
        fields["suspension_reason"] = suspension_reason if vm_state == VmState.SUSPENDED else ""
    if power_state:
        fields["power_state"] = power_state
    if image is not None:
        fields["image"] = image
    Server.objects.filter(pk=server_id).update(**fields)
    if vm_state:
        state_written(server_id, vm_state, power_state)


def state_written(server_id: int, vm_state: str, power_state: str | None) -> None:
    """Tell listeners (billing's usage meter) that a server's vm_state was written, in this transaction."""
    vm_state_written.send(sender=Server, server_id=server_id, vm_state=vm_state, power_state=power_state,
                          at=clock.now())


# --- Lifecycle actions of the platform (expiry, arrears, staff): not customer instructions --------------

SUSPENDABLE = (VmState.ACTIVE, VmState.STOPPED, VmState.ERROR)


def suspend(server: Server, *, reason: str, actor, channel: str, detail: str = "", ip: str | None = None) -> bool:
    """Stop a server and mark it suspended with `reason` (4.5.2). Returns False when it cannot start now
    (an operation is in flight: the caller's periodic job tries again) or the server is already suspended.

    An already-suspended server keeps its reason, except that a reason which does not lift on payment
    replaces one that does (abuse over arrears), so paying never lifts a staff or legal suspension.
    """
    if reason not in SuspensionReason.values():
        raise ValueError(f"unknown suspension reason {reason!r}")
    with transaction.atomic():
        if reason not in SuspensionReason.SELF_LIFTING:
            Server.objects.filter(pk=server.pk, vm_state=VmState.SUSPENDED,
                                  suspension_reason__in=SuspensionReason.SELF_LIFTING).update(suspension_reason=reason)
        # The service is suspended from this moment (billing stops, operations are refused); the task then
        # powers the machine off.
        started = Server.objects.filter(pk=server.pk, task_state=TaskState.NONE, vm_state__in=SUSPENDABLE).update(
            task_state=TaskState.SUSPENDING, task_state_changed_at=clock.now(), vm_state=VmState.SUSPENDED,
            suspension_reason=reason)
        if not started:
            return False
        state_written(server.pk, VmState.SUSPENDED, None)
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.suspend",
                                   target=server, params={"reason": reason, "detail": detail[:200]}, ip=ip)
        from . import tasks

        tasks.suspend_server.enqueue(server_id=server.pk, reason=reason, instruction_id=instruction.pk)
    return True


def resume(server: Server, *, reasons=SuspensionReason.SELF_LIFTING, actor, channel: str,
           ip: str | None = None) -> bool:
    """Lift a suspension whose reason is in `reasons` and start the server again. Payment and renewal call
    this with the default (expiry, arrears); other reasons need staff. Returns False when not applicable
    or an operation is in flight."""
    with transaction.atomic():
        started = Server.objects.filter(pk=server.pk, task_state=TaskState.NONE, vm_state=VmState.SUSPENDED,
                                        suspension_reason__in=list(reasons)).update(
            task_state=TaskState.RESUMING, task_state_changed_at=clock.now())
        if not started:
            return False
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.resume",
                                   target=server, params={"reason": server.suspension_reason}, ip=ip)
        from . import tasks

        tasks.resume_server.enqueue(server_id=server.pk, instruction_id=instruction.pk)
    return True


def release(server: Server, *, actor, channel: str, reason: str, ip: str | None = None) -> bool:
    """Destroy a server and its disk for good (after expiry/arrears retention, or by staff). Returns False
    when an operation is in flight (try again later) or it is already released."""
    with transaction.atomic():
        started = Server.objects.filter(pk=server.pk, task_state=TaskState.NONE).exclude(
            vm_state=VmState.RELEASED).update(task_state=TaskState.RELEASING, task_state_changed_at=clock.now())
        if not started:
            return False
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.release",
                                   target=server, params={"reason": reason}, ip=ip)
        from . import tasks

        tasks.release_server.enqueue(server_id=server.pk, instruction_id=instruction.pk)
    return True


# --- Prepaid term and configuration, kept by billing ------------------------------------------------------


def set_expiry(server: Server, at: dt.datetime) -> None:
    """Mirror the prepaid period end on the server (billing's subscription is the authority)."""
    Server.objects.filter(pk=server.pk).update(expires_at=at)
    server.expires_at = at


def check_resize(server: Server, *, disk_gib: int) -> None:
    """Refuse a configuration change the server cannot take: a disk never shrinks (the data would not fit)."""
    if disk_gib < server.disk_gib:
        raise OperationRefused(_("云盘容量只能扩大，不能缩小：当前 %(current)s GiB，新配置 %(new)s GiB。") % {
            "current": server.disk_gib, "new": disk_gib})


def apply_plan(server: Server, *, plan, actor, channel: str, ip: str | None = None) -> None:
    """Resize a stopped server to a paid plan: vCPUs, memory and a disk that can only grow (5.1).

    Runs inside billing's transaction (the charge or refund and this stand or fall together): one
    conditional UPDATE from stopped/no operation records the new size and sets task_state `resizing`; the
    task applies it to the hypervisor's persistent definition. Raises OperationRefused when the server is
    not stopped or another operation is in flight."""
    check_resize(server, disk_gib=plan.disk_gib)
    started = Server.objects.filter(pk=server.pk, task_state=TaskState.NONE, vm_state=VmState.STOPPED).update(
        task_state=TaskState.RESIZING, task_state_changed_at=clock.now(), plan=plan, vcpus=plan.vcpus,
        memory_mib=plan.memory_mib, disk_gib=plan.disk_gib)
    if not started:
        raise OperationRefused(_("请先关机，并等待正在进行的操作完成后，再变更配置。"))
    instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.resize",
                               target=server, params={"plan": plan.code, "vcpus": plan.vcpus,
                                                      "memory_mib": plan.memory_mib, "disk_gib": plan.disk_gib},
                               ip=ip)
    from . import tasks

    tasks.resize_server.enqueue(server_id=server.pk, instruction_id=instruction.pk)
    server.plan, server.vcpus, server.memory_mib, server.disk_gib = plan, plan.vcpus, plan.memory_mib, plan.disk_gib


# --- issue 5: migration (5.5, 8.6) ------------------------------------------------------------------------


def committed_capacity(node_ids: list[int]) -> dict[int, dict]:
    """What each node has promised: its live servers plus the servers scheduled to migrate onto it (their
    capacity is held from scheduling until the cut-over, so placement cannot sell it). Keys per node:
    vcpus_used, memory_used, disk_used."""
    live = ~Q(servers__vm_state=VmState.RELEASED)
    used = {
        row.pop("pk"): row
        for row in Node.objects.filter(pk__in=node_ids).values("pk").annotate(
            vcpus_used=Sum("servers__vcpus", filter=live),
            memory_used=Sum("servers__memory_mib", filter=live),
            disk_used=Sum("servers__disk_gib", filter=live),
        )
    }
    incoming = (MigrationItem.objects.filter(target_node_id__in=node_ids, state__in=MigrationState.ACTIVE)
                .exclude(server__node_id=models.F("target_node_id"))  # already switched: counted above
                .exclude(server__vm_state=VmState.RELEASED)
                .values("target_node_id").annotate(vcpus=Sum("server__vcpus"), memory=Sum("server__memory_mib"),
                                                   disk=Sum("server__disk_gib")))
    for row in incoming:
        node = used.setdefault(row["target_node_id"], {})
        for key, extra in (("vcpus_used", "vcpus"), ("memory_used", "memory"), ("disk_used", "disk")):
            node[key] = (node.get(key) or 0) + row[extra]
    return used
