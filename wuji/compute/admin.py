from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.audit.choices import Channel
from wuji.core import clock
from wuji.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, ReasonForm, action_page, client_ip

from . import console, migration, nodes
from .choices import MigrationScope, VmState
from .models import MigrationItem, MigrationPlan, Node, Server, ServerPush, Snapshot


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    """Nodes with their allocation (held / capacity × ratio) and the last health check's findings."""

    list_display = ["name", "region", "uri", "virt_type", "vcpus_allocation", "memory_allocation",
                    "disk_allocation", "is_enabled", "reachable", "hypervisor_version", "free_memory",
                    "checked_at", "last_error"]
    list_filter = ["region", "virt_type", "is_enabled", "health__is_reachable"]
    list_select_related = ["region", "health"]
    fields = ["name", "region", "uri", "virt_type", "storage_pool", "console_address", "vcpus", "memory_mib",
              "disk_gib", "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio", "is_enabled"]
    actions = ["check_now", "migrate_selected_nodes"]

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

    @admin.action(description=gettext_lazy("迁移所选宿主机（或其整个机房）上的服务器"), permissions=["change"])
    def migrate_selected_nodes(self, request, queryset):
        return _migration_action(self, request, queryset, "migrate_selected_nodes", whole_region=True)


@admin.register(Server)
class ServerAdmin(admin.ModelAdmin):
    """Servers change state only through compute services (operations, reconciler); the console shows them."""

    list_display = ["id", "name", "owner", "region", "plan", "node", "vm_state", "task_state", "power_state",
                    "suspension_reason", "expires_at"]
    list_filter = ["vm_state", "task_state", "region", "node"]
    search_fields = ["name", "uuid", "owner__email"]
    list_select_related = ["owner", "region", "plan", "node"]
    readonly_fields = [f.name for f in Server._meta.fields]
    actions = ["migrate_selected_servers"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("迁移所选服务器到其他宿主机"), permissions=["change"])
    def migrate_selected_servers(self, request, queryset):
        return _migration_action(self, request, queryset, "migrate_selected_servers")

    # --- issue 5: remotevnc — staff console ------------------------------------------------------------------

    def get_urls(self):
        return [path("<int:pk>/console/", self.admin_site.admin_view(self.console_view),
                     name="compute_server_console"), *super().get_urls()]

    def console_view(self, request, pk: int):
        """The portal's console page for staff (admin_view: staff only, never cached), any owner's server.

        Each connection is a recorded instruction (channel staff) with the reason given: a customer's screen
        is private, so it takes the change permission (operations), not the view one. A refusal (not running,
        busy, no console on the node) goes back to the change page."""
        server = get_object_or_404(Server.objects.select_related("owner"), pk=pk)
        if not self.has_change_permission(request, server):  # operations: reading the list is not seeing the screen
            raise PermissionDenied
        form = ReasonForm(request.POST if request.method == "POST" else None)
        issued = None
        if form.is_bound and form.is_valid():
            try:
                issued = console.issue_token(request.user, server, channel=Channel.STAFF, ip=client_ip(request),
                                             reason=form.cleaned_data["reason"])
            except console.ConsoleRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:compute_server_change", args=[server.pk]))
        return TemplateResponse(request, "portal/server_console.html",
                                {"server": server, "issued": issued, "staff_form": form})


# --- issue 5: migration (5.5, 8.6) ------------------------------------------------------------------------


class MigrationForm(forms.Form):
    target_node = forms.ModelChoiceField(label=gettext_lazy("目标宿主机"), queryset=Node.objects.all())
    window_start = forms.DateTimeField(label=gettext_lazy("时间窗口开始（北京时间）"),
                                       help_text=gettext_lazy("至少提前 3 个自然日，例如 2026-12-05 02:00"))
    window_end = forms.DateTimeField(label=gettext_lazy("时间窗口结束（北京时间）"))
    reason = forms.CharField(label=gettext_lazy("迁移原因（将告知客户）"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


class RegionMigrationForm(MigrationForm):
    whole_region = forms.BooleanField(label=gettext_lazy("迁移所选宿主机所在的整个机房（地域）"), required=False)


def _migration_action(model_admin, request, queryset, action: str, whole_region: bool = False):
    """Schedule one plan per selected server or node (or per region); each refusal is shown, nothing of it
    is written."""
    form_class = RegionMigrationForm if whole_region else MigrationForm
    form = form_class(request.POST if "apply" in request.POST else None)
    if not (form.is_bound and form.is_valid()):
        return action_page(model_admin, request, queryset, form, action, _("安排迁移"))
    data = form.cleaned_data
    if queryset.model is Server:
        subjects = [{"scope": MigrationScope.SERVER, "server": s} for s in queryset]
    elif data.get("whole_region"):
        subjects = [{"scope": MigrationScope.REGION, "region": r} for r in {n.region for n in queryset}]
    else:
        subjects = [{"scope": MigrationScope.NODE, "node": n} for n in queryset]
    for subject in subjects:
        label = subject.get("server") or subject.get("node") or subject.get("region")
        try:
            plan = migration.schedule(target=data["target_node"], window_start=data["window_start"],
                                      window_end=data["window_end"], reason=data["reason"], actor=request.user,
                                      ip=client_ip(request), **subject)
        except migration.services.OperationRefused as exc:
            model_admin.message_user(request, f"{label}: {exc}", messages.ERROR)
            continue
        model_admin.message_user(request, _("%(subject)s：已安排迁移，%(n)s 台服务器的客户已收到通知。") % {
            "subject": label, "n": plan.items.count()})
    return None


class MigrationItemInline(ReadOnlyTabularInline):
    model = MigrationItem
    fields = ["server", "source_node", "target_node", "old_address", "new_address", "state", "error",
              "started_at", "finished_at", "scheduled_notice", "reminder_notice", "result_notice"]
    readonly_fields = fields


@admin.register(MigrationPlan)
class MigrationPlanAdmin(ReadOnlyAdmin):
    """Plans are made from the server and node lists (actions) by `migration.schedule`; here staff follow
    them: each server's state, error and the notices sent."""

    list_display = ["id", "scope", "target_node", "window_start", "window_end", "state", "created_by", "created_at"]
    list_filter = ["state", "scope", "target_node"]
    list_select_related = ["target_node", "created_by"]
    inlines = [MigrationItemInline]
    actions = ["cancel_selected"]

    def has_cancel_permission(self, request):
        return request.user.has_perm("compute.change_migrationplan")

    @admin.action(description=gettext_lazy("取消所选迁移中尚未开始的服务器（需填写原因，客户会收到通知）"),
                  permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "cancel_selected", _("取消迁移"))
        for plan in queryset:
            count = migration.cancel(plan, actor=request.user, reason=form.cleaned_data["reason"],
                                     ip=client_ip(request))
            self.message_user(request, _("迁移 #%(plan)s：已取消 %(n)s 台服务器。") % {"plan": plan.pk, "n": count})
        return None


@admin.register(MigrationItem)
class MigrationItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "plan", "server", "source_node", "target_node", "old_address", "new_address", "state",
                    "error"]
    list_filter = ["state", "target_node"]
    search_fields = ["server__name", "server__uuid", "old_address", "new_address"]
    list_select_related = ["plan", "server", "source_node", "target_node"]

# --- issue 5: push ----------------------------------------------------------------------------------------------


@admin.register(ServerPush)
class ServerPushAdmin(ReadOnlyAdmin):
    """Server pushes (服务器转让): offers and their outcomes, written only by compute.push services."""

    list_display = ["id", "server", "sender", "receiver", "state", "fee_fen", "offered_at", "expires_at", "closed_at"]
    list_filter = ["state"]
    search_fields = ["server__name", "server__uuid", "sender__email", "receiver__email"]
    list_select_related = ["server", "sender", "receiver"]
    date_hierarchy = "offered_at"

# issue 5: snapshots
@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    """Snapshots change only through the snapshot instructions and their tasks; the console shows them."""

    list_display = ["id", "server", "name", "hypervisor_name", "state", "power_state", "created_at", "deleted_at"]
    list_filter = ["state"]
    search_fields = ["name", "hypervisor_name", "server__uuid", "server__owner__email"]
    list_select_related = ["server"]
