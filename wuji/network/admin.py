"""Console: public IP pools (add/edit through the service, with validation errors on the form), the allocation
history (read-only, searchable by address, with a "who held this address at that moment" lookup), servers and
their addresses (staff bind, unbind, blackhole) and the blackholes (staff lift them early)."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.compute.services import OperationRefused
from wuji.core.admin import ReasonForm as LiftForm
from wuji.core.admin import action_page, client_ip

from . import services
from .choices import AddressState
from .models import Blackhole, IpAllocation, IpPool, ServerAddress


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因（将告知客户）"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


class BlackholeForm(ReasonForm):
    hours = forms.FloatField(label=gettext_lazy("封堵时长（小时）"), min_value=0.1, max_value=24 * 30,
                             initial=lambda: settings.WUJI_BLACKHOLE_HOURS)


class HolderLookupForm(forms.Form):
    address = forms.GenericIPAddressField(label=gettext_lazy("公网 IP"), protocol="IPv4")
    at = forms.DateTimeField(label=gettext_lazy("时间（北京时间）"), help_text=gettext_lazy("例如 2026-05-01 08:30:00"))


def _refusal_text(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def apply_each(model_admin, request, targets, call, success) -> None:
    """Run a staff action on each selected row: one message per row (its result or its refusal) and a count."""
    done = 0
    for target in targets:
        try:
            result = call(target)
        except (ValidationError, OperationRefused) as exc:
            model_admin.message_user(request, f"{target}: {_refusal_text(exc)}", messages.ERROR)
            continue
        model_admin.message_user(request, success(target, result))
        done += 1
    model_admin.message_user(request, _("已处理 %(n)s 项。") % {"n": done})


def form_or_page(model_admin, request, queryset, form_class, action: str, title):
    """The action's bound, valid form, or the confirmation page asking for it."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form, None
    return None, action_page(model_admin, request, queryset, form, action, title)


class RecordAdmin(admin.ModelAdmin):
    """Rows written by services only: staff read them and act on them through actions, never edit them."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IpPool)
class IpPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "cidr", "gateway", "is_enabled"]
    list_filter = ["region", "is_enabled"]
    search_fields = ["name", "cidr"]

    def has_delete_permission(self, request, obj=None):
        return False  # its allocations are history

    def save_model(self, request, obj, form, change):
        # The form already ran the model's validation and shows its errors next to the fields.
        services.save_pool(obj, actor=request.user, channel="staff", ip=client_ip(request))


@admin.register(IpAllocation)
class IpAllocationAdmin(RecordAdmin):
    """The history (who held which address when): never edited, never deleted."""

    list_display = ["address", "pool", "server", "owner", "state", "allocated_at", "released_at"]
    list_filter = ["state", "pool__region", "pool", ("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["address", "owner__email", "server__name"]
    list_select_related = ["pool", "server", "owner"]
    date_hierarchy = "allocated_at"
    actions = ["change_ip_selected"]
    change_list_template = "admin/network/ipallocation/change_list.html"

    def get_urls(self):
        lookup = self.admin_site.admin_view(self.holder_lookup)
        return [path("holder/", lookup, name="network_ipallocation_holder"), *super().get_urls()]

    def holder_lookup(self, request):
        """Who held this address at that moment (abuse and legal requests): the allocations open then."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = HolderLookupForm(request.GET or None)
        rows = None
        if form.is_valid():
            rows = services.history(address=form.cleaned_data["address"], at=form.cleaned_data["at"])
        return TemplateResponse(request, "admin/network/ipallocation/holder.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": _("查询某一时刻的地址持有人"),
            "form": form, "rows": rows,
        })

    @admin.action(description=gettext_lazy("为所选服务器更换公网 IP（需填写原因，客户会收到通知）"),
                  permissions=["change"])
    def change_ip_selected(self, request, queryset):
        form, page = form_or_page(self, request, queryset, ReasonForm, "change_ip_selected", _("更换公网 IP"))
        if page is not None:
            return page
        apply_each(self, request, queryset.filter(released_at__isnull=True).select_related("server"),
                   lambda allocation: services.change_ip(allocation.server, actor=request.user, channel="staff",
                                                         reason=form.cleaned_data["reason"], ip=client_ip(request)),
                   lambda allocation, new: _("%(server)s：%(old)s → %(new)s") % {
                       "server": allocation.server, "old": allocation.address, "new": new.address})
        return None


@admin.register(ServerAddress)
class ServerAddressAdmin(RecordAdmin):
    """Servers with their public address; staff bind, unbind or blackhole it here (each with a reason)."""

    list_display = ["name", "owner", "region", "public_ip", "public_ip_state", "blackhole_until", "vm_state",
                    "task_state"]
    list_filter = ["region", "vm_state"]
    search_fields = ["name", "uuid", "owner__email"]
    list_select_related = ["owner", "region"]
    actions = ["bind_selected", "unbind_selected", "blackhole_selected"]

    def get_queryset(self, request):
        return services.with_public_ip(super().get_queryset(request))

    @admin.display(description=gettext_lazy("公网 IP"), ordering="public_ip")
    def public_ip(self, server):
        return server.public_ip or "—"

    @admin.display(description=gettext_lazy("绑定状态"))
    def public_ip_state(self, server):
        return AddressState.label(server.public_ip_state) if server.public_ip_state else "—"

    @admin.display(description=gettext_lazy("黑洞预计解除"))
    def blackhole_until(self, server):
        return server.blackhole_until or "—"

    @admin.action(description=gettext_lazy("为所选服务器绑定公网 IP"), permissions=["change"])
    def bind_selected(self, request, queryset):
        form, page = form_or_page(self, request, queryset, ReasonForm, "bind_selected", _("绑定公网 IP"))
        if page is not None:
            return page
        apply_each(self, request, queryset,
                   lambda server: services.bind(server, actor=request.user, channel="staff",
                                                reason=form.cleaned_data["reason"], ip=client_ip(request)),
                   lambda server, instruction: _("%(server)s：正在绑定 %(address)s") % {
                       "server": server, "address": instruction.params["address"]})
        return None

    @admin.action(description=gettext_lazy("解绑所选服务器的公网 IP（退回地址池，客户会收到通知）"),
                  permissions=["change"])
    def unbind_selected(self, request, queryset):
        form, page = form_or_page(self, request, queryset, ReasonForm, "unbind_selected", _("解绑公网 IP"))
        if page is not None:
            return page
        apply_each(self, request, queryset,
                   lambda server: services.unbind(server, actor=request.user, channel="staff",
                                                  reason=form.cleaned_data["reason"], ip=client_ip(request)),
                   lambda server, instruction: _("%(server)s：正在解绑 %(address)s") % {
                       "server": server, "address": instruction.params["address"]})
        return None

    @admin.action(description=gettext_lazy("黑洞封堵所选服务器的公网 IP（DDoS，到期自动恢复）"),
                  permissions=["change"])
    def blackhole_selected(self, request, queryset):
        form, page = form_or_page(self, request, queryset, BlackholeForm, "blackhole_selected", _("黑洞封堵"))
        if page is not None:
            return page
        apply_each(self, request, queryset,
                   lambda server: services.blackhole(
                       server, duration=dt.timedelta(hours=form.cleaned_data["hours"]), reason=form.cleaned_data[
                           "reason"], actor=request.user, channel="staff", ip=client_ip(request)),
                   lambda server, hole: _("%(server)s：已封堵，预计 %(until)s 解除") % {
                       "server": server, "until": services.local_time(hole.ends_at)})
        return None


@admin.register(Blackhole)
class BlackholeAdmin(RecordAdmin):
    """Blackholes, in force and past; staff lift one early (with a reason). Started from the servers' page."""

    list_display = ["server", "allocation", "reason", "started_by", "started_at", "ends_at", "applied_at",
                    "ended_at", "ended_by"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["allocation__address", "server__name", "server__owner__email"]
    list_select_related = ["server", "allocation", "started_by", "ended_by"]
    actions = ["lift_selected"]

    @admin.action(description=gettext_lazy("提前解除所选黑洞封堵（重新绑定同一地址）"), permissions=["change"])
    def lift_selected(self, request, queryset):
        form, page = form_or_page(self, request, queryset, LiftForm, "lift_selected", _("提前解除黑洞封堵"))
        if page is not None:
            return page
        for hole in queryset.filter(ended_at__isnull=True):
            services.end_blackhole(hole, actor=request.user, channel="staff", reason=form.cleaned_data["reason"],
                                   ip=client_ip(request))
            self.message_user(request, _("%(hole)s：已解除") % {"hole": hole})
        return None
