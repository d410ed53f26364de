from django.contrib import admin

from wuji.core.admin import ReadOnlyAdmin

from .models import Node, Server, ServerPush


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "uri", "virt_type", "storage_pool", "vcpus", "memory_mib", "disk_gib",
                    "is_enabled"]
    list_filter = ["region", "virt_type", "is_enabled"]
    list_select_related = ["region"]


@admin.register(Server)
class ServerAdmin(admin.ModelAdmin):
    """Servers change state only through compute services (operations, reconciler); the console shows them."""

    list_display = ["id", "name", "owner", "region", "plan", "node", "vm_state", "task_state", "power_state",
                    "suspension_reason", "expires_at"]
    list_filter = ["vm_state", "task_state", "region", "node"]
    search_fields = ["name", "uuid", "owner__email"]
    list_select_related = ["owner", "region", "plan", "node"]
    readonly_fields = [f.name for f in Server._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- issue 5: push ----------------------------------------------------------------------------------------------


@admin.register(ServerPush)
class ServerPushAdmin(ReadOnlyAdmin):
    """Server pushes (服务器转让): offers and their outcomes, written only by compute.push services."""

    list_display = ["id", "server", "sender", "receiver", "state", "fee_fen", "offered_at", "expires_at", "closed_at"]
    list_filter = ["state"]
    search_fields = ["server__name", "server__uuid", "sender__email", "receiver__email"]
    list_select_related = ["server", "sender", "receiver"]
    date_hierarchy = "offered_at"
