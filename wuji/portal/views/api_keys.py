"""API keys: created with scopes, an IP allow-list and an expiry; the secret is shown once, right after
creation; revoking is immediate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.accounts import services as accounts
from wuji.api import services as api_keys

from .. import once
from ..forms import ApiKeyForm
from ..http import client_ip
from .security import step_up_redirect

ONCE_NAME = "api_key"


@login_required
def api_key_list(request):
    form = ApiKeyForm()
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        try:
            factor = accounts.require_step_up(request, "api_key_create")
        except accounts.StepUpRequired as exc:
            return step_up_redirect(request, exc, reverse("portal:api_keys"))
        except accounts.StepUpFailed as exc:
            factor = None
            if form.is_valid():
                form.add_error(None, str(exc))
        if factor and form.is_valid():
            try:
                key, secret = api_keys.create_key(
                    owner=request.user, name=form.cleaned_data["name"], ip=client_ip(request), factor=factor,
                    scopes=form.cleaned_data["scopes"], allowed_ips=form.allowed_ip_list(),
                    expires_at=form.expiry())
            except api_keys.ApiKeyError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                once.keep(request, ONCE_NAME, {"key_id": key.key_id, "name": key.name, "secret": secret})
                return redirect("portal:api_keys")
    return render(request, "portal/api_keys.html", {
        "form": form,
        "keys": api_keys.keys_of(request.user),
        "created": once.pop(request, ONCE_NAME),
    })


@login_required
@require_POST
def api_key_revoke(request, pk: int):
    key = get_object_or_404(api_keys.keys_of(request.user), pk=pk)
    if key.is_active:
        api_keys.revoke_key(key=key, actor=request.user, ip=client_ip(request))
        messages.success(request, _("密钥 %(key_id)s 已吊销。") % {"key_id": key.key_id})
    return redirect("portal:api_keys")
