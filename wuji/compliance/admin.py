"""Console: ICP filings, reviewed by staff (approve or reject, each with a reason)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import ReasonForm, action_page, client_ip

from . import services
from .choices import FilingStatus
from .models import IcpFiling


@admin.register(IcpFiling)
class IcpFilingAdmin(admin.ModelAdmin):
    list_display = ["domain", "icp_number", "owner", "server", "status", "submitted_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["domain", "icp_number", "owner__email", "server__name"]
    list_select_related = ["owner", "server", "reviewed_by"]
    actions = ["approve_selected", "reject_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in IcpFiling._meta.fields]

    def has_add_permission(self, request):
        return False  # customers submit filings (issue 6); staff review them

    def has_delete_permission(self, request, obj=None):
        return False

    def _review(self, request, queryset, action: str, title, decide):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, action, title)
        for filing in queryset.filter(status=FilingStatus.SUBMITTED).select_related("owner"):
            try:
                decide(filing, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request))
            except (ValidationError, services.ReviewRefused) as exc:
                self.message_user(request, f"{filing}: {exc}", messages.ERROR)
                continue
            self.message_user(request, _("%(filing)s：%(title)s") % {"filing": filing, "title": title})
        return None

    @admin.action(description=gettext_lazy("通过所选备案（需填写审核意见）"), permissions=["change"])
    def approve_selected(self, request, queryset):
        return self._review(request, queryset, "approve_selected", _("通过备案"), services.approve_filing)

    @admin.action(description=gettext_lazy("驳回所选备案（需填写原因）"), permissions=["change"])
    def reject_selected(self, request, queryset):
        return self._review(request, queryset, "reject_selected", _("驳回备案"), services.reject_filing)
