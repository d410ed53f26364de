from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core import money

from . import payg
from .models import Meter, Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "region", "plan", "cycle", "amount_fen", "server", "created_at"]
    list_filter = ["region", "cycle"]
    search_fields = ["customer__email", "idempotency_key"]
    list_select_related = ["customer", "region", "plan", "server"]

    def has_add_permission(self, request):
        return False  # orders are placed through billing services (with their charge), not typed in

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    """Pay-as-you-go meters: read-only (the money is the ledger's); staff can run a settlement now."""

    list_display = ["id", "customer", "server", "rate", "running_per_hour", "stopped_per_hour", "metered_until",
                    "settled_until", "charged_fen", "debt_fen", "arrears_since", "suspended_at", "released_at"]
    list_filter = ["rate"]
    search_fields = ["customer__email", "server__name"]
    list_select_related = ["customer", "server"]
    actions = ["settle_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_settle_permission(self, request):
        return request.user.has_perm("billing.change_meter")

    @admin.action(description=gettext_lazy("立即执行按量结算（全部到期计量）"), permissions=["settle"])
    def settle_now(self, request, queryset):
        run = payg.run_settlement(actor=request.user, channel="staff", ip=request.META.get("REMOTE_ADDR"))
        self.message_user(request, _("已结算 %(meters)s 个计量，扣费 %(charges)s 笔，共 %(yuan)s 元。") % {
            "meters": run.meters, "charges": run.charges, "yuan": money.fen_to_yuan(run.charged_fen)})
