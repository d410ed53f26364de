"""Snapshots on the server page: the list, and the create / revert / delete instructions (快照)."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuji.compute import services as compute
from wuji.compute import snapshots
from wuji.compute.choices import SnapshotState, TaskState
from wuji.compute.models import Snapshot

from ..http import client_ip


class SnapshotCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("快照名称"), max_length=snapshots.NAME_MAX, required=False)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


class SnapshotConfirmForm(forms.Form):
    """Revert and delete lose data: the customer ticks the confirmation box first."""

    confirm = forms.BooleanField(required=True)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


def server_snapshots_context(server) -> dict:
    """For the server page: its snapshots, each with a fresh form key for the revert and delete buttons it
    offers now (None: not offered), and whether one can be taken. The service decides again when pressed."""
    if not snapshots.supports_snapshots(server):
        return {"snapshots_supported": False}
    idle = server.task_state == TaskState.NONE

    def key_if(offered: bool):
        return uuid.uuid4() if idle and offered else None

    rows = [(snapshot,
             key_if(snapshot.state == SnapshotState.AVAILABLE and server.vm_state in snapshots.REVERT_FROM),
             key_if(snapshot.state in (SnapshotState.AVAILABLE, SnapshotState.ERROR)
                    and server.vm_state in snapshots.DELETE_FROM))
            for snapshot in snapshots.snapshots_of(server)]
    return {
        "snapshots_supported": True,
        "snapshot_rows": rows,
        "snapshot_key": key_if(server.vm_state in snapshots.CREATE_FROM),
    }


def _snapshot_of(request, pk: int, snapshot_pk: int) -> Snapshot:
    """The customer's own server's snapshot, or 404 (someone else's is not revealed)."""
    server = get_object_or_404(compute.servers_of(request.user), pk=pk)
    return get_object_or_404(snapshots.snapshots_of(server).select_related("server"), pk=snapshot_pk)


def _once(request, key: str) -> bool:
    """True the first time a form key is seen in this session (a second submit is not carried out twice);
    the same record of keys as the server's other buttons (servers imports this module, hence the late import)."""
    from .servers import DONE_KEYS, DONE_KEYS_KEPT

    done = request.session.get(DONE_KEYS, [])
    if key in done:
        messages.info(request, _("该指令已提交过，未重复执行。"))
        return False
    request.session[DONE_KEYS] = (done + [key])[-DONE_KEYS_KEPT:]
    return True


@login_required
@require_POST
def snapshot_create(request, pk: int):
    server = get_object_or_404(compute.servers_of(request.user).select_related("node"), pk=pk)
    form = SnapshotCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("无效的操作请求。"))
        return redirect("portal:server", pk=server.pk)
    try:
        snapshots.create_snapshot(server=server, name=form.cleaned_data["name"],
                                  idempotency_key=str(form.cleaned_data["idempotency_key"]), actor=request.user,
                                  channel="web", ip=client_ip(request))
    except compute.OperationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("指令已受理：%(operation)s。") % {"operation": _("创建快照")})
    return redirect("portal:server", pk=server.pk)


def _confirmed_instruction(request, pk: int, snapshot_pk: int, service, label: str):
    snapshot = _snapshot_of(request, pk, snapshot_pk)
    form = SnapshotConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请勾选确认框后再提交。"))
    elif _once(request, str(form.cleaned_data["idempotency_key"])):
        try:
            service(snapshot=snapshot, actor=request.user, channel="web", ip=client_ip(request))
        except compute.OperationRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("指令已受理：%(operation)s。") % {"operation": label})
    return redirect("portal:server", pk=pk)


@login_required
@require_POST
def snapshot_revert(request, pk: int, snapshot_pk: int):
    return _confirmed_instruction(request, pk, snapshot_pk, snapshots.revert_snapshot, _("回滚快照"))


@login_required
@require_POST
def snapshot_delete(request, pk: int, snapshot_pk: int):
    return _confirmed_instruction(request, pk, snapshot_pk, snapshots.delete_snapshot, _("删除快照"))

