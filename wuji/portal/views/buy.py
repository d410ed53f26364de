"""Buying a server: choose, see the price in force, confirm. The confirmed price and a per-form
idempotency key go back to billing, so a changed price is refused and a double submit buys once."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from wuji.billing import services as billing
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.ledger import services as ledger

from .. import once
from ..forms import OrderForm, ServerChoiceForm
from ..http import client_ip


def price_table() -> dict:
    """Regions as columns, plans as rows, the monthly price in force in each cell (None: not on sale)."""
    regions, plans = list(catalog.regions()), list(catalog.plans())
    prices = catalog.prices_in_force()
    rows = []
    for plan in plans:
        cells = [prices.get((plan.pk, region.pk, BillingCycle.MONTHLY)) for region in regions]
        rows.append({"plan": plan, "prices": [p.amount_fen if p else None for p in cells]})
    return {"regions": regions, "rows": rows}


def _quote(choice: dict) -> int | None:
    try:
        return billing.quote(region=choice["region"], plan=choice["plan"], cycle=choice["cycle"])
    except catalog.NotOnSale:
        return None


@login_required
def buy(request):
    form = ServerChoiceForm(initial={
        "region": catalog.regions().first(), "plan": catalog.plans().first(), "image": catalog.images().first(),
    })
    return render(request, "portal/buy.html", {"form": form, "price_table": price_table()})


@login_required
def buy_confirm(request):
    """GET: the chosen configuration with its price in force. POST: place the order at that price."""
    if request.method != "POST":
        choice = ServerChoiceForm(request.GET)
        if not choice.is_valid():
            return render(request, "portal/buy.html", {"form": choice, "price_table": price_table()})
        return _confirm_page(request, choice.cleaned_data, idempotency_key=uuid.uuid4())
    form = OrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("订单信息不完整，请重新选择。"))
        return redirect("portal:buy")
    data = form.cleaned_data
    try:
        order, password = billing.place_order(
            customer=request.user, region=data["region"], plan=data["plan"], image=data["image"],
            cycle=data["cycle"], name=data["name"], idempotency_key=str(data["idempotency_key"]),
            channel="web", ip=client_ip(request), expected_amount=data["expected_amount"],
        )
    except billing.PurchaseRefused as exc:
        return _confirm_page(request, data, idempotency_key=data["idempotency_key"], error=str(exc))
    if password is not None:
        once.keep(request, once.root_password_key(order.server_id), password)
        messages.success(request, _("购买成功，服务器正在创建。"))
    return redirect("portal:server", pk=order.server_id)


def _confirm_page(request, choice: dict, *, idempotency_key, error: str | None = None):
    amount = _quote(choice)
    if amount is None:
        error = error or _("该配置在此地域暂不销售。")
    return render(request, "portal/buy_confirm.html", {
        "choice": choice,
        "cycle_label": BillingCycle.label(choice["cycle"]),
        "amount": amount,
        "idempotency_key": idempotency_key,
        "error": error,
        "balances": ledger.balances(request.user),
    })
