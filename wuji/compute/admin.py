from django.contrib import admin, messages
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core import clock

from . import nodes
from .choices import VmState
from .models import Node, Server


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    """Nodes with their allocation (held / capacity × ratio) and the last health check's findings."""

    list_display = ["name", "region", "uri", "virt_type", "vcpus_allocation", "memory_allocation",
                    "disk_allocation", "is_enabled", "reachable", "hypervisor_version", "free_memory",
                    "checked_at", "last_error"]
    list_filter = ["region", "virt_type", "is_enabled", "health__is_reachable"]
    list_select_related = ["region", "health"]
    fields = ["name", "region", "uri", "virt_type", "storage_pool", "vcpus", "memory_mib", "disk_gib",
              "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio", "is_enabled"]
    actions = ["check_now"]

    def get_queryset(self, request):
        live = ~Q(servers__vm_state=VmState.RELEASED)
        return super().get_queryset(request).annotate(
            vcpus_used=Sum("servers__vcpus", filter=live, default=0),
            memory_used=Sum("servers__memory_mib", filter=live, default=0),
            disk_used=Sum("servers__disk_gib", filter=live, default=0),
        )

    @admin.display(description=gettext_lazy("vCPU（已分配/可分配）"), ordering=F("vcpus_used"))
    def vcpus_allocation(self, node):
        return f"{node.vcpus_used} / {node.allocatable_vcpus}"

    @admin.display(description=gettext_lazy("内存 MiB（已分配/可分配）"), ordering=F("memory_used"))
    def memory_allocation(self, node):
        return f"{node.memory_used} / {node.allocatable_memory_mib}"

    @admin.display(description=gettext_lazy("磁盘 GiB（已分配/可分配）"), ordering=F("disk_used"))
    def disk_allocation(self, node):
        return f"{node.disk_used} / {node.allocatable_disk_gib}"

    @staticmethod
    def _health(node):
        return getattr(node, "health", None)

    @admin.display(description=gettext_lazy("可连接"), boolean=True)
    def reachable(self, node):
        health = self._health(node)
        return None if health is None else health.is_reachable

    @admin.display(description=gettext_lazy("虚拟化版本"))
    def hypervisor_version(self, node):
        health = self._health(node)
        return f"{health.hypervisor} {health.version}" if health and health.version else "—"

    @admin.display(description=gettext_lazy("宿主机空闲内存 MiB"))
    def free_memory(self, node):
        health = self._health(node)
        return "—" if health is None or health.free_memory_mib is None else health.free_memory_mib

    @admin.display(description=gettext_lazy("最近检查"))
    def checked_at(self, node):
        health = self._health(node)
        return health.checked_at if health else "—"

    @admin.display(description=gettext_lazy("最近错误"))
    def last_error(self, node):
        health = self._health(node)
        if health is None or not health.last_error:
            return "—"
        return f"{health.last_error_at:%Y-%m-%d %H:%M} {health.last_error}"

    @admin.action(description=gettext_lazy("立即检查所选节点"), permissions=["change"])
    def check_now(self, request, queryset):
        """Run the periodic health check now on the selected nodes (it only reads the hypervisors)."""
        for node in queryset:
            health = nodes.check_node(node, now=clock.now())
            if health.is_reachable:
                text = _("%(node)s：可连接，%(hypervisor)s %(version)s，空闲内存 %(free)s MiB。")
                self.message_user(request, text % {"node": node.name, "hypervisor": health.hypervisor,
                                                   "version": health.version, "free": health.free_memory_mib})
            else:
                self.message_user(request, _("%(node)s：无法连接（%(error)s）。") % {
                    "node": node.name, "error": health.last_error}, messages.ERROR)


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
