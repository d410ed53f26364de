from django.contrib import admin

from .models import Delivery, Notice


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["channel", "address", "status", "attempts", "detail", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Proof of notice: who was told what, when, on which channels, with what result."""

    list_display = ["id", "recipient", "event", "subject", "mandatory", "created_at", "read_at"]
    list_filter = ["event", "mandatory"]
    search_fields = ["recipient__email", "subject"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "event", "subject", "body", "mandatory", "created_at", "read_at"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
