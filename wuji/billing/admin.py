from django.contrib import admin

from .models import Order


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

from . import admin_freezes  # noqa: E402,F401  (fund freezes and appeals: 5.4)
