"""The customer's servers and the instructions they give them (start, stop, restart, reinstall, reset password)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.accounts import services as accounts
from wuji.catalog import services as catalog
from wuji.compute import services as compute
from wuji.compute.choices import Operation, VmState

from .. import once
from ..forms import ServerActionForm
from ..http import client_ip
from .metrics import server_metrics_context
from .migrations import server_migration_context
from .network import network_panel
from .payg import server_meter_context as payg_meter_context
from .push import server_push_context
from .security import step_up_redirect
from .snapshots import server_snapshots_context

# The order of the buttons on the server page; reinstall has its own form (it needs an image).
BUTTONS = (Operation.START, Operation.STOP, Operation.REBOOT, Operation.REBOOT_HARD)
# Whoever holds the new root password owns the machine: these ask for a fresh verification (3.1.2).
STEP_UP_OPERATIONS = (Operation.REINSTALL, Operation.RESET_PASSWORD)
DONE_KEYS = "portal.done_actions"
DONE_KEYS_KEPT = 50


def in_flight(server) -> bool:
    return bool(server.task_state) or server.vm_state == VmState.BUILDING


def allowed_operations(server) -> set[str]:
    """What the buttons offer; the service decides again, atomically, when one is pressed."""
    if server.task_state:
        return set()
    return {op for op in Operation.values() if server.vm_state in Operation.ALLOWED_FROM[op]}


@login_required
def server_list(request):
    servers = list(compute.servers_of(request.user).select_related("subscription"))
    return render(request, "portal/servers.html", {
        "servers": servers,
        "refresh": any(in_flight(s) for s in servers),
    })


@login_required
def server_detail(request, pk: int):
    server = get_object_or_404(compute.servers_of(request.user).select_related("node"), pk=pk)
    allowed = allowed_operations(server)
    # Shown once; the page then does not refresh itself, so the customer has time to copy it.
    shown_password = once.pop(request, once.root_password_key(server.pk))
    return render(request, "portal/server.html", {
        "server": server,
        **network_panel(server),
        **server_migration_context(request.user, server),
        # Each form carries its own key: submitting the same form twice carries out the instruction once.
        "buttons": [(op, Operation.label(op), uuid.uuid4()) for op in BUTTONS if op in allowed],
        "can_reinstall": Operation.REINSTALL in allowed,
        "images": catalog.images(),
        "root_password": shown_password,
        **payg_meter_context(request.user, server),
        **server_metrics_context(server),
        **server_push_context(server),
        **server_snapshots_context(server),
        "reinstall_key": uuid.uuid4(),
        "can_reset_password": Operation.RESET_PASSWORD in allowed,
        "reset_password_key": uuid.uuid4(),
        "refresh": in_flight(server) and not shown_password,
        "demo_hypervisor": server.node is not None and server.node.is_test_hypervisor,
    })


@login_required
@require_POST
def server_action(request, pk: int):
    server = get_object_or_404(compute.servers_of(request.user), pk=pk)
    form = ServerActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("无效的操作请求。"))
        return redirect("portal:server", pk=server.pk)
    key = str(form.cleaned_data["idempotency_key"])
    done = request.session.get(DONE_KEYS, [])
    if key in done:
        messages.info(request, _("该指令已提交过，未重复执行。"))
        return redirect("portal:server", pk=server.pk)
    operation = form.cleaned_data["operation"]
    factor = None
    if operation in STEP_UP_OPERATIONS:
        try:
            factor = accounts.require_step_up(request, operation)
        except accounts.StepUpRequired as exc:
            return step_up_redirect(request, exc, reverse("portal:server", args=[server.pk]))
        except accounts.StepUpFailed as exc:
            messages.error(request, str(exc))
            return redirect("portal:server", pk=server.pk)
    try:
        _instruction, password = compute.request_operation(
            server=server, operation=operation, actor=request.user, channel="web", ip=client_ip(request),
            image=form.cleaned_data["image"], factor=factor, ssh_key=form.cleaned_data["ssh_key"],
            new_password=not form.cleaned_data["key_only"],
        )
    except compute.OperationRefused as exc:
        messages.error(request, str(exc))
        return redirect("portal:server", pk=server.pk)
    request.session[DONE_KEYS] = (done + [key])[-DONE_KEYS_KEPT:]
    if password:
        once.keep(request, once.root_password_key(server.pk), password)
    messages.success(request, _("指令已受理：%(operation)s。") % {"operation": Operation.label(operation)})
    return redirect("portal:server", pk=server.pk)
