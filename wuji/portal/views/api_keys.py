"""API keys: the secret is shown once, right after creation; revoking is immediate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.api import services as api_keys

from .. import once
from ..forms import ApiKeyForm
from ..http import client_ip

ONCE_NAME = "api_key"


@login_required
def api_key_list(request):
    form = ApiKeyForm()
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                key, secret = api_keys.create_key(owner=request.user, name=form.cleaned_data["name"],
                                                  ip=client_ip(request))
            except api_keys.ApiKeyError as exc:
                form.add_error("name", str(exc))
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
