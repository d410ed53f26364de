from django.contrib import admin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["key_id", "owner", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    search_fields = ["key_id", "owner__email"]
    # The encrypted secret is never shown, not even to staff.
    fields = ["owner", "name", "key_id", "scopes", "allowed_ips", "expires_at", "created_at", "last_used_at",
              "last_used_ip", "revoked_at"]
    readonly_fields = fields
    list_select_related = ["owner"]

    def has_add_permission(self, request):
        return False
