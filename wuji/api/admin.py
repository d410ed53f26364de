from django.contrib import admin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["key_id", "owner", "name", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["key_id", "owner__email"]
    readonly_fields = ["owner", "name", "key_id", "secret_hash", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["owner"]

    def has_add_permission(self, request):
        return False
