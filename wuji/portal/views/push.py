"""Server push (服务器转让) in the portal: the offer form on the server page, and the page of incoming and
outgoing pushes with accept (after step-up verification), decline and withdraw."""

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuji.accounts import services as accounts
from wuji.compute import push as pushes
from wuji.compute import services as compute

from ..http import client_ip
from .security import step_up_redirect

STEP_UP = "server_push"
LISTED = 50  # most recent pushes shown per direction


class PushOfferForm(forms.Form):
    receiver = forms.CharField(label=gettext_lazy("接收方账号"), max_length=254,
                               help_text=gettext_lazy("对方登录武极云使用的邮箱或手机号码。"))
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


def server_push_context(server) -> dict:
    """For the server page: the open offer, or the form to make one."""
    offer = pushes.open_offer_of(server)
    return {
        "push_offer": offer,
        "push_form": None if offer else PushOfferForm(initial={"idempotency_key": uuid.uuid4()}),
        "push_fee_fen": pushes.current_fee_fen(),
        "push_hours": settings.WUJI_SERVER_PUSH_HOURS,
    }


def _step_up(request, back: str):
    """(factor, None) when verified, else (None, the response to send: verification page or an error)."""
    try:
        return accounts.require_step_up(request, STEP_UP), None
    except accounts.StepUpRequired as exc:
        return None, step_up_redirect(request, exc, back)
    except accounts.StepUpFailed as exc:
        messages.error(request, str(exc))
        return None, redirect(back)


@login_required
@require_POST
def push_offer(request, pk: int):
    server = get_object_or_404(compute.servers_of(request.user), pk=pk)
    back = reverse("portal:server", args=[server.pk])
    form = PushOfferForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写接收方的登录邮箱或手机号码。"))
        return redirect(back)
    factor, response = _step_up(request, back)
    if response is not None:
        return response
    try:
        push = pushes.offer(server=server, receiver_login=form.cleaned_data["receiver"], actor=request.user,
                            channel="web", ip=client_ip(request),
                            idempotency_key=str(form.cleaned_data["idempotency_key"]), factor=factor)
    except pushes.PushRefused as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("已向对方发起转让，对方需在 %(deadline)s 前接收。") % {
        "deadline": f"{timezone.localtime(push.expires_at):%Y-%m-%d %H:%M}"})
    return redirect("portal:pushes")


@login_required
def push_list(request):
    incoming = list(pushes.incoming_of(request.user)[:LISTED])
    for push in incoming:
        push.sender_masked = pushes.masked_login(push.sender)  # the receiver sees who offers it, masked
    return render(request, "portal/pushes.html", {
        "incoming": incoming, "outgoing": pushes.outgoing_of(request.user)[:LISTED]})


@login_required
@require_POST
def push_accept(request, pk: int):
    push = get_object_or_404(pushes.incoming_of(request.user), pk=pk)
    factor, response = _step_up(request, reverse("portal:pushes"))
    if response is not None:
        return response
    try:
        pushes.accept(push=push, actor=request.user, channel="web", ip=client_ip(request), factor=factor)
    except pushes.PushRefused as exc:
        messages.error(request, exc.message)
        return redirect("portal:pushes")
    messages.success(request, _("已接收服务器 %(name)s，它现在归您所有。") % {"name": push.server.name})
    return redirect("portal:server", pk=push.server_id)


@login_required
@require_POST
def push_decline(request, pk: int):
    push = get_object_or_404(pushes.incoming_of(request.user), pk=pk)
    return _close(request, pushes.decline, push, _("已拒绝该转让。"))


@login_required
@require_POST
def push_cancel(request, pk: int):
    push = get_object_or_404(pushes.outgoing_of(request.user), pk=pk)
    return _close(request, pushes.cancel, push, _("已撤回该转让。"))


def _close(request, service, push, done: str):
    try:
        service(push=push, actor=request.user, channel="web", ip=client_ip(request))
    except pushes.PushRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("portal:pushes")
