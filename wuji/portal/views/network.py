"""The server page's public IP card: the address, its state, a blackhole's expected release, and the owner's
bind / unbind instructions (issue 5, network)."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuji.compute import services as compute
from wuji.network import services as network

from ..http import client_ip

ACTIONS = {"bind": (network.bind, gettext_lazy("绑定公网 IP")), "unbind": (network.unbind, gettext_lazy("解绑公网 IP"))}


class IpActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(name, label) for name, (_call, label) in ACTIONS.items()])
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


def network_panel(server) -> dict:
    """The card's context. The buttons follow the state; the service decides again, atomically, when pressed."""
    state = network.ip_status(server)  # the API's GET /servers/{id}/ip/ reads the same
    allocation = state["allocation"]
    return {
        "public_ip": allocation.address if allocation else None,
        "ip_allocation": allocation,
        "blackhole": state["blackhole"],
        "can_bind_ip": state["can_bind"],
        "can_unbind_ip": state["can_unbind"],
        "ip_action_key": uuid.uuid4(),
    }


@login_required
@require_POST
def server_ip_action(request, pk: int):
    from .servers import DONE_KEYS, DONE_KEYS_KEPT  # the server page's once-only keys (servers imports this module)

    server = get_object_or_404(compute.servers_of(request.user), pk=pk)
    form = IpActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("无效的操作请求。"))
        return redirect("portal:server", pk=server.pk)
    key, done = str(form.cleaned_data["idempotency_key"]), request.session.get(DONE_KEYS, [])
    if key in done:
        messages.info(request, _("该指令已提交过，未重复执行。"))
        return redirect("portal:server", pk=server.pk)
    call, label = ACTIONS[form.cleaned_data["action"]]
    try:
        call(server, actor=request.user, channel="web", ip=client_ip(request))
    except compute.OperationRefused as exc:
        messages.error(request, str(exc))
        return redirect("portal:server", pk=server.pk)
    request.session[DONE_KEYS] = (done + [key])[-DONE_KEYS_KEPT:]
    messages.success(request, _("指令已受理：%(operation)s。") % {"operation": label})
    return redirect("portal:server", pk=server.pk)
