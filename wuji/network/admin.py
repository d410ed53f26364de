"""Console: public IP pools (add/edit through the service, with validation errors on the form) and the
allocation history, read-only, searchable by address; staff change a server's IP (8.6) from it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import action_page, client_ip

from . import services
from .models import IpAllocation, IpPool


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("变更原因（将告知客户）"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


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
class IpAllocationAdmin(admin.ModelAdmin):
    """The history (who held which address when): never edited, never deleted."""

    list_display = ["address", "pool", "server", "owner", "allocated_at", "released_at"]
    list_filter = ["pool__region", "pool", ("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["address", "owner__email", "server__name"]
    list_select_related = ["pool", "server", "owner"]
    readonly_fields = [f.name for f in IpAllocation._meta.fields]
    date_hierarchy = "allocated_at"
    actions = ["change_ip_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("为所选服务器更换公网 IP（需填写原因，客户会收到通知）"),
                  permissions=["change"])
    def change_ip_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "change_ip_selected", _("更换公网 IP"))
        done = 0
        for allocation in queryset.filter(released_at__isnull=True).select_related("server"):
            try:
                new = services.change_ip(allocation.server, actor=request.user, channel="staff",
                                         reason=form.cleaned_data["reason"], ip=client_ip(request))
            except (ValidationError, services.NoAddressLeft, services.NoPublicIp) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{allocation.server}: {text}", messages.ERROR)
                continue
            self.message_user(request, _("%(server)s：%(old)s → %(new)s") % {
                "server": allocation.server, "old": allocation.address, "new": new.address})
            done += 1
        self.message_user(request, _("已更换 %(n)s 台服务器的公网 IP。") % {"n": done})
        return None
