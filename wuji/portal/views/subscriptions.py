"""Prepaid subscriptions in the portal: renew (cycles, price, confirm), auto-renew, change plan (quote, confirm).

Every form carries the idempotency key it was rendered with; renewals also carry the period end the customer
saw, so a double click, a second tab and the scheduler renew a period once."""

import datetime as dt
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.billing import renewals
from wuji.catalog import services as catalog
from wuji.core import money
from wuji.ledger import services as ledger

from ..http import client_ip

CYCLE_CHOICES = (1, 2, 3, 6, 12)


def _subscription(request, pk: int):
    return get_object_or_404(renewals.subscriptions_of(request.user).select_related("server__region"), pk=pk)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@login_required
def renew(request, pk: int):
    """GET: choose cycles and see the price; POST: renew (confirmed amount and period end included)."""
    sub = _subscription(request, pk)
    if request.method == "POST":
        cycles = _int(request.POST.get("cycles"))
        key = request.POST.get("idempotency_key", "")[:100]
        try:
            expected = dt.datetime.fromisoformat(request.POST.get("expected_period_end", ""))
        except ValueError:
            expected = None
        if cycles is None or expected is None or not key:
            messages.error(request, _("续费请求无效，请重新选择续费周期。"))
            return redirect("portal:subscription_renew", pk=sub.pk)
        try:
            result = renewals.renew(sub, cycles=cycles, expected_period_end=expected, actor=request.user,
                                    channel="web", ip=client_ip(request), request_key=key)
        except renewals.RenewalRefused as exc:
            messages.error(request, str(exc))
            return redirect("portal:subscription_renew", pk=sub.pk)
        if result.replayed:
            messages.info(request, _("该周期已续费，未重复扣费。"))
        else:
            messages.success(request, _("续费成功，已扣费 %(yuan)s 元。") % {
                "yuan": money.fen_to_yuan(result.charge.amount_fen)})
        return redirect("portal:server", pk=sub.server_id)
    cycles = _int(request.GET.get("cycles"), 1)
    if cycles not in CYCLE_CHOICES:
        cycles = 1
    _price, per_cycle = renewals.renewal_price(sub)
    return render(request, "portal/subscription_renew.html", {
        "sub": sub, "server": sub.server, "cycles": cycles, "cycle_choices": CYCLE_CHOICES,
        "per_cycle": per_cycle, "amount": per_cycle * cycles, "balances": ledger.balances(request.user),
        "idempotency_key": uuid.uuid4(), "expected_period_end": sub.period_end.isoformat(),
        "max_cycles": settings.WUJI_RENEW_MAX_CYCLES,
    })


@login_required
@require_POST
def auto_renew(request, pk: int):
    sub = _subscription(request, pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        renewals.set_auto_renew(sub, enabled=enabled, actor=request.user, channel="web", ip=client_ip(request))
    except renewals.RenewalRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已开启自动续费。") if enabled else _("已关闭自动续费。"))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return HttpResponseRedirect(back)  # a URL as posted: redirect() would try to reverse a bare word as a view
    return redirect("portal:server", pk=sub.server_id)


@login_required
def change_plan(request, pk: int):
    """GET: choose a plan and see the prorated quote; POST: confirm it."""
    sub = _subscription(request, pk)
    plans = list(catalog.plans().exclude(pk=sub.plan_id))
    if request.method == "POST":
        plan = next((p for p in plans if str(p.pk) == request.POST.get("plan")), None)
        expected = _int(request.POST.get("expected_amount"))
        key = request.POST.get("idempotency_key", "")[:100]
        if plan is None or expected is None or not key:
            messages.error(request, _("请选择新配置。"))
            return redirect("portal:subscription_change_plan", pk=sub.pk)
        try:
            charge, replayed = renewals.change_plan(sub, plan, actor=request.user, channel="web", request_key=key,
                                                    ip=client_ip(request), expected_amount=expected)
        except renewals.RenewalRefused as exc:
            messages.error(request, str(exc))
            return redirect(f"{request.path}?plan={plan.pk}")
        if replayed:
            messages.info(request, _("该变更已提交过，未重复执行。"))
        else:
            messages.success(request, _("配置已变更为 %(plan)s。") % {"plan": plan.name})
        return redirect("portal:server", pk=sub.server_id)
    chosen = next((p for p in plans if str(p.pk) == request.GET.get("plan")), None)
    quote, error = None, None
    if chosen is not None:
        try:
            quote = renewals.quote_change(sub, chosen)
        except renewals.RenewalRefused as exc:
            error = str(exc)
    return render(request, "portal/subscription_change_plan.html", {
        "sub": sub, "server": sub.server, "plans": plans, "chosen": chosen, "quote": quote, "error": error,
        "refund": -quote.amount_fen if quote and quote.amount_fen < 0 else 0,
        "idempotency_key": uuid.uuid4(),
    })
