"""Compute services: creating servers and running customers' instructions on them.

Every operation starts with one conditional UPDATE of task_state (compare-and-swap from none), records
the instruction, and enqueues its task in the same transaction; the task talks to the hypervisor.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Result
from wuji.core import clock, crypto

from .choices import Operation, TaskState, VmState
from .models import Node, Server


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

    The node rows are locked while the new server is inserted in the caller's transaction, so two
    orders cannot both take the last slot.
    """
    nodes = list(Node.objects.select_for_update().filter(region=region, is_enabled=True).order_by("id"))
    live = ~Q(servers__vm_state=VmState.RELEASED)
    used = {
        row["pk"]: row
        for row in Node.objects.filter(pk__in=[n.pk for n in nodes]).values("pk").annotate(
            vcpus_used=Sum("servers__vcpus", filter=live),
            memory_used=Sum("servers__memory_mib", filter=live),
            disk_used=Sum("servers__disk_gib", filter=live),
        )
    }
    best, best_free = None, -1
    for node in nodes:
        u = used.get(node.pk, {})
        free_vcpus = node.vcpus - (u.get("vcpus_used") or 0)
        free_memory = node.memory_mib - (u.get("memory_used") or 0)
        free_disk = node.disk_gib - (u.get("disk_used") or 0)
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
    from . import tasks

    password = crypto.random_password()
    tasks.provision_server.enqueue(
        server_id=server.pk, instruction_id=instruction.pk, password_token=crypto.encrypt(password)
    )
    return server, password


def request_operation(*, server: Server, operation: str, actor, channel: str, ip: str | None,
                      image=None, factor: str | None = None) -> tuple[object, str | None]:
    """Accept a customer's instruction on a server, or refuse it with a clear reason.

    Returns (instruction, new root password or None). The password exists only in the return value and,
    encrypted, in the task's arguments; it is shown to the customer once.
    """
    if operation not in Operation.values():
        raise OperationRefused(_("不支持的操作。"))
    params = {"operation": operation}
    if factor:  # which step-up factor authorised it (clause 3.1.2)
        params["factor"] = factor
    if operation == Operation.REINSTALL:
        if image is None or not image.is_active:
            raise OperationRefused(_("请选择可用的系统镜像。"))
        params["image"] = image.code
    password = crypto.random_password() if operation == Operation.REINSTALL else None
    with transaction.atomic():
        started = Server.objects.filter(
            pk=server.pk, task_state=TaskState.NONE, vm_state__in=Operation.ALLOWED_FROM[operation]
        ).update(task_state=Operation.TASK_STATE[operation], task_state_changed_at=clock.now())
        if started != 1:
            reason = _refusal_reason(server.pk, operation)
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
            )
    if started != 1:
        raise OperationRefused(reason)
    return instruction, password


def _refusal_reason(server_id: int, operation: str) -> str:
    current = Server.objects.filter(pk=server_id).values("task_state", "vm_state").first()
    if current is None:
        return _("服务器不存在。")
    if current["task_state"]:
        return _("该服务器有操作正在进行（%(task)s），请等待完成后再试。") % {
            "task": TaskState.label(current["task_state"])
        }
    return _("服务器当前状态（%(state)s）不允许执行“%(op)s”。") % {
        "state": VmState.label(current["vm_state"]), "op": Operation.label(operation)
    }


def finish_operation(server_id: int, *, vm_state: str | None, power_state: str | None, error: str = "",
                     image=None) -> None:
    """Clear task_state at the end of an operation, success or failure, recording what is now true."""
    fields = {"task_state": TaskState.NONE, "task_state_changed_at": None, "last_error": error[:500]}
    if vm_state:
        fields["vm_state"] = vm_state
    if power_state:
        fields["power_state"] = power_state
    if image is not None:
        fields["image"] = image
    Server.objects.filter(pk=server_id).update(**fields)
