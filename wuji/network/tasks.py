"""Network tasks: applying a server's public address to its instance, or taking it off, on the hypervisor.

Each runs under the server's task_state (`binding_ip` / `unbinding_ip`, claimed by the service) and clears it
at the end, success or failure, like compute's operations. Nothing here sends traffic to any address: the
hypervisor's configuration is the proof (see the driver contract)."""

import datetime as dt
import logging

from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.compute import services as compute
from wuji.compute.choices import TaskState
from wuji.compute.drivers import DriverError, InstanceNotFound
from wuji.compute.tasks import driver_for
from wuji.core.scheduler import periodic

from . import services
from .models import IpAllocation

log = logging.getLogger(__name__)


def _claimed(allocation_id: int, task_state: str) -> IpAllocation | None:
    """The allocation, when its server is still claimed for this task (a retried or recovered task finds it
    cleared and does nothing)."""
    allocation = IpAllocation.objects.select_related("server__node").get(pk=allocation_id)
    return allocation if allocation.server.task_state == task_state else None


def _finish(allocation: IpAllocation, instruction_id: int | None, *, error: str = "", detail: str = "") -> None:
    compute.finish_operation(allocation.server_id, vm_state=None, power_state=None, error=error)
    instruction = Instruction.objects.filter(pk=instruction_id).first() if instruction_id else None
    if instruction is not None:
        audit.record_outcome(instruction, succeeded=not (error or detail), detail=error or detail)


@task()
def bind_address(allocation_id: int, instruction_id: int | None = None) -> str:
    """Apply the server's address to its instance (replacing any other it had there)."""
    allocation = _claimed(allocation_id, TaskState.BINDING_IP)
    if allocation is None:
        return "nothing to do"
    server = allocation.server
    try:
        driver_for(server.node).bind_public_ip(str(server.uuid), allocation.address)
    except DriverError as exc:
        log.warning("binding %s to %s failed: %r", allocation.address, server.uuid, exc)
        with transaction.atomic():
            services.binding_failed(allocation, str(exc))
            _finish(allocation, instruction_id, error=_("公网 IP 绑定失败：%(error)s") % {"error": exc})
        return "failed"
    with transaction.atomic():
        applied = services.binding_applied(allocation)
        _finish(allocation, instruction_id)
        if not applied:
            services.catch_up(server.pk)  # a blackhole began meanwhile: take the address off again
    return "bound" if applied else "superseded"


@task()
def unbind_address(allocation_id: int, instruction_id: int | None = None, release: bool = False,
                   reason: str = "") -> str:
    """Take the address off the instance; then return it to the pool (`release`, a requested unbind) or keep it
    held for the server (a blackhole)."""
    allocation = _claimed(allocation_id, TaskState.UNBINDING_IP)
    if allocation is None:
        return "nothing to do"
    server = allocation.server
    try:
        driver_for(server.node).unbind_public_ip(str(server.uuid))
    except InstanceNotFound:
        pass  # no instance, no address on it
    except DriverError as exc:
        log.warning("unbinding %s from %s failed: %r", allocation.address, server.uuid, exc)
        with transaction.atomic():
            _finish(allocation, instruction_id, error=_("公网 IP 解绑失败：%(error)s") % {"error": exc})
        return "failed"
    with transaction.atomic():
        released = services.unbinding_applied(allocation, release=release, reason=reason)
        kept = release and not released
        _finish(allocation, instruction_id,
                detail=_("该地址正在黑洞封堵中，封堵期间为服务器保留，未退回地址池。") if kept else "")
        if not released:
            services.catch_up(server.pk)  # a blackhole was lifted meanwhile: bind the address again
    return "released" if released else "held"


@periodic("network.sync_addresses", every=dt.timedelta(minutes=1))
@task()
def sync_addresses() -> dict:
    """End due blackholes and apply what could not be applied at once (see services.sync_addresses)."""
    return services.sync_addresses()
