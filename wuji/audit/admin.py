from django.contrib import admin

from .models import DataAccess, Instruction


@admin.register(Instruction)
class InstructionAdmin(admin.ModelAdmin):
    list_display = ["seq", "created_at", "owner", "actor", "channel", "action", "target_type", "target_id",
                    "result", "ip"]
    list_filter = ["channel", "result", "action"]
    search_fields = ["owner__email", "action", "target_id"]
    list_select_related = ["owner", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataAccess)
class DataAccessAdmin(admin.ModelAdmin):
    list_display = ["created_at", "staff", "subject", "field", "target_type", "target_id", "reason", "ip"]
    list_filter = ["field"]
    search_fields = ["staff__email", "subject__email", "reason"]
    list_select_related = ["staff", "subject"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
