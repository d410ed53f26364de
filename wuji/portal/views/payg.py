"""Pay-as-you-go (按量付费) in the portal: buying a server billed by the second, and its meter."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.billing import payg
from wuji.billing.services import PurchaseRefused
from wuji.catalog import services as catalog
from wuji.ledger import services as ledger

from .. import once
from ..http import client_ip


class PaygOrderForm(forms.Form):
    region = forms.ModelChoiceField(label=gettext_lazy("地域"), queryset=catalog.regions(), empty_label=None,
                                    widget=forms.RadioSelect)
    plan = forms.ModelChoiceField(label=gettext_lazy("配置"), queryset=catalog.plans(), empty_label=None,
                                  widget=forms.RadioSelect)
    image = forms.ModelChoiceField(label=gettext_lazy("系统镜像"), queryset=catalog.images(), empty_label=None,
                                   widget=forms.RadioSelect)
    name = forms.CharField(label=gettext_lazy("服务器名称"), max_length=64, required=False)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


@login_required
def payg_buy(request):
    """GET: the choice with the hourly prices. POST: create the server; nothing is charged up front."""
    if request.method == "POST":
        form = PaygOrderForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meter, password = payg.place_payg_order(
                    customer=request.user, region=data["region"], plan=data["plan"], image=data["image"],
                    name=data["name"], idempotency_key=str(data["idempotency_key"]), channel="web",
                    ip=client_ip(request))
            except PurchaseRefused as exc:
                form.add_error(None, str(exc))
            else:
                if password is not None:
                    once.keep(request, once.root_password_key(meter.server_id), password)
                    messages.success(request, _("按量付费服务器正在创建，按秒计费、每小时结算。"))
                return redirect("portal:server", pk=meter.server_id)
    else:
        form = PaygOrderForm(initial={
            "region": catalog.regions().first(), "plan": catalog.plans().first(),
            "image": catalog.images().first(), "idempotency_key": uuid.uuid4()})
    return render(request, "portal/payg_buy.html", {
        "form": form, "prices": catalog.hourly_prices_in_force(), "balances": ledger.balances(request.user)})


@login_required
def payg_meter(request, pk: int):
    meter = payg.meter_of(request.user, pk)
    if meter is None:
        raise Http404
    return render(request, "portal/payg_meter.html", {"meter": meter, **meter_context(meter)})


def meter_context(meter) -> dict:
    return {"pending_fen": payg.pending_fen(meter), "hourly_spend": meter.hourly_spend}


def server_meter_context(customer, server) -> dict:
    """For the server page: the pay-as-you-go meter, if the server has one."""
    meter = payg.meter_of(customer, server.pk)
    return {"meter": meter, **meter_context(meter)} if meter else {}
