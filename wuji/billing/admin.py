import datetime as dt

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wuji.core import clock, money
from wuji.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from . import payg
from .models import Meter, Order, SnapshotMeter, Subscription, SubscriptionCharge
from .subscription_choices import SubscriptionState


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer", "region", "plan", "cycle", "amount_fen", "server", "created_at"]
    list_filter = ["region", "cycle"]
    search_fields = ["customer__email", "idempotency_key"]
    list_select_related = ["customer", "region", "plan", "server"]
    # Orders are placed through billing services (with their charge), never typed in.


class ExpiryFilter(admin.SimpleListFilter):
    title = _("到期")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("soon", _("7 天内到期")), ("expired", _("已到期（保留中）")), ("past", _("已过到期时间"))]

    def queryset(self, request, queryset):
        now = clock.now()
        if self.value() == "soon":
            return queryset.filter(state=SubscriptionState.ACTIVE, period_end__gt=now,
                                   period_end__lte=now + dt.timedelta(days=7))
        if self.value() == "expired":
            return queryset.filter(state=SubscriptionState.EXPIRED)
        if self.value() == "past":
            return queryset.filter(period_end__lte=now)
        return queryset


class SubscriptionChargeInline(ReadOnlyTabularInline):
    model = SubscriptionCharge
    fields = ["kind", "cycles", "amount_fen", "cash_fen", "gift_fen", "period_end_before", "period_end_after",
              "plan_before", "plan_after", "channel", "created_at"]
    readonly_fields = fields


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Read-only: subscriptions change only through billing services (renewal, plan change, lifecycle)."""

    list_display = ["id", "customer", "server", "plan", "region", "price_fen", "period_end", "auto_renew", "state"]
    list_filter = [ExpiryFilter, "state", "auto_renew", "region", "plan"]
    search_fields = ["customer__email", "server__name", "server__uuid"]
    list_select_related = ["customer", "server", "plan", "region"]
    date_hierarchy = "period_end"
    inlines = [SubscriptionChargeInline]


@admin.register(Meter)
class MeterAdmin(ReadOnlyAdmin):
    """Pay-as-you-go meters: read-only (the money is the ledger's); staff can run a settlement now."""

    list_display = ["id", "customer", "server", "rate", "running_per_hour", "stopped_per_hour", "metered_until",
                    "settled_until", "charged_fen", "debt_fen", "arrears_since", "suspended_at", "released_at"]
    list_filter = ["rate"]
    search_fields = ["customer__email", "server__name"]
    list_select_related = ["customer", "server"]
    actions = ["settle_now"]

    def has_settle_permission(self, request):
        return request.user.has_perm("billing.change_meter")

    @admin.action(description=_("立即执行按量结算（全部到期计量）"), permissions=["settle"])
    def settle_now(self, request, queryset):
        run = payg.run_settlement(actor=request.user, channel="staff", ip=request.META.get("REMOTE_ADDR"))
        self.message_user(request, _("已结算 %(meters)s 个计量，扣费 %(charges)s 笔，共 %(yuan)s 元。") % {
            "meters": run.meters, "charges": run.charges, "yuan": money.fen_to_yuan(run.charged_fen)})


from . import admin_freezes  # noqa: E402,F401  (fund freezes and appeals: 5.4)


# issue 5: snapshots
@admin.register(SnapshotMeter)
class SnapshotMeterAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer", "snapshot", "per_hour", "started_at", "ended_at", "settled_until",
                    "charged_fen", "debt_fen"]
    search_fields = ["customer__email"]
    list_select_related = ["customer", "snapshot"]
