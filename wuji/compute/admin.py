from django.contrib import admin

from wuji.core.admin import ReadOnlyAdmin

from .models import Node, Server, Snapshot


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


# issue 5: snapshots
@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    """Snapshots change only through the snapshot instructions and their tasks; the console shows them."""

    list_display = ["id", "server", "name", "hypervisor_name", "state", "power_state", "created_at", "deleted_at"]
    list_filter = ["state"]
    search_fields = ["name", "hypervisor_name", "server__uuid", "server__owner__email"]
    list_select_related = ["server"]
