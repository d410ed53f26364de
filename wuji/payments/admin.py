from django.contrib import admin

from .models import TopUp


@admin.register(TopUp)
class TopUpAdmin(admin.ModelAdmin):
    list_display = ["out_trade_no", "customer", "channel", "amount_fen", "status", "channel_trade_no", "paid_at"]
    list_filter = ["channel", "status"]
    search_fields = ["out_trade_no", "channel_trade_no", "customer__email"]
    list_select_related = ["customer"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from . import admin_withdrawals  # noqa: E402,F401  (withdrawals, refunds, bank accounts)
