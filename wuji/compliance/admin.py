"""Console: ICP filings, reviewed by staff (approve or reject, each with a reason); the disclosure register (5.2)
and the identity statistics page (6.5)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import ReasonForm, action_page, client_ip

from . import dns_check, services, statistics
from .choices import DataCategory, DisclosureStatus, DnsResult, FilingStatus
from .models import Disclosure, IcpFiling


class DnsFlaggedFilter(admin.SimpleListFilter):
    """Approved filings whose domain no longer points at their server (the periodic DNS check, decision 0036)."""

    title = gettext_lazy("解析检查")
    parameter_name = "dns_flagged"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("解析异常")), ("no", gettext_lazy("解析正常或未检查"))]

    def queryset(self, request, queryset):
        flagged = dns_check.flagged_filings().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=flagged)
        if self.value() == "no":
            return queryset.filter(status=FilingStatus.APPROVED).exclude(pk__in=flagged)
        return queryset


@admin.register(IcpFiling)
class IcpFilingAdmin(admin.ModelAdmin):
    list_display = ["domain", "icp_number", "owner", "server", "status", "submitted_at", "reviewed_by", "reviewed_at",
                    "dns_result", "dns_checked_at", "flagged_since"]
    list_filter = ["status", DnsFlaggedFilter, "dns_result"]
    search_fields = ["domain", "icp_number", "owner__email", "server__name"]
    list_select_related = ["owner", "server", "reviewed_by"]
    actions = ["approve_selected", "reject_selected", "recheck_dns"]

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

    @admin.action(description=gettext_lazy("立即检查所选备案的域名解析"), permissions=["change"])
    def recheck_dns(self, request, queryset):
        counts = dns_check.check(queryset)
        if not counts:
            self.message_user(request, _("所选记录中没有已通过的备案，未检查。"), messages.WARNING)
            return
        summary = "，".join(f"{DnsResult.label(result)} {n}" for result, n in sorted(counts.items()))
        self.message_user(request, _("已检查 %(n)s 条备案：%(summary)s") % {"n": sum(counts.values()),
                                                                       "summary": summary})


# --- Disclosure register (5.2) and identity statistics (6.5) -------------------------------------------------

class DisclosureForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(label=gettext_lazy("数据类别"), choices=DataCategory.choices(),
                                           widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Disclosure
        fields = ["subject", "legal_basis", "requester", "request_reference", "categories", "purpose"]


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    """The register: staff file a request (the form), a second staff member approves or rejects it (actions),
    and the export generated at approval is read only through the logged download below."""

    form = DisclosureForm
    list_display = ["id", "subject", "legal_basis", "requester", "request_reference", "categories_display", "status",
                    "requested_by", "decided_by", "decided_at", "download_link"]
    list_filter = ["status", "legal_basis"]
    search_fields = ["subject__email", "requester", "request_reference"]
    list_select_related = ["subject", "requested_by", "decided_by"]
    raw_id_fields = ["subject"]
    actions = ["approve_selected", "reject_selected"]
    REGISTER_FIELDS = ["subject", "legal_basis", "requester", "request_reference", "categories_display", "purpose",
                       "status", "requested_by", "requested_at", "decided_by", "decided_at", "decision_reason",
                       "export_sha256", "download_link"]

    def get_fields(self, request, obj=None):
        return self.REGISTER_FIELDS if obj else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.REGISTER_FIELDS if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("compliance.approve_disclosure")

    def save_model(self, request, obj, form, change):
        if not change:
            services.request_disclosure(obj, actor=request.user, ip=client_ip(request))

    @admin.display(description=gettext_lazy("数据类别"))
    def categories_display(self, obj):
        return obj.category_labels

    @admin.display(description=gettext_lazy("导出文件"))
    def download_link(self, obj):
        if obj.status != DisclosureStatus.APPROVED:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:compliance_disclosure_export", args=[obj.pk]),
                           _("下载（记录查看）"))

    def _decide(self, request, queryset, action: str, title, decide):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, action, title)
        for disclosure in queryset.filter(status=DisclosureStatus.REQUESTED).select_related("subject"):
            try:
                decide(disclosure, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request))
            except (ValidationError, services.DisclosureRefused) as exc:
                self.message_user(request, f"{disclosure}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                                  messages.ERROR)
                continue
            self.message_user(request, _("%(d)s：%(title)s") % {"d": disclosure, "title": title})
        return None

    @admin.action(description=gettext_lazy("批准所选披露申请并生成导出文件（需填写审批意见）"),
                  permissions=["approve"])
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset, "approve_selected", _("批准披露"), services.approve_disclosure)

    @admin.action(description=gettext_lazy("驳回所选披露申请（需填写原因）"), permissions=["approve"])
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset, "reject_selected", _("驳回披露"), services.reject_disclosure)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/export/", wrap(self.export_view), name="compliance_disclosure_export"),
            path("identity-statistics/", wrap(self.statistics_view), name="compliance_identity_statistics"),
            *super().get_urls(),
        ]

    def _page(self, request, template: str, title, **context):
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context})

    def export_view(self, request, pk: int):
        """The only way staff read an export: a reason, logged as a data access, then the file."""
        if not request.user.has_perm("compliance.download_disclosure_export"):
            raise PermissionDenied
        disclosure = get_object_or_404(Disclosure.objects.select_related("subject"), pk=pk,
                                       status=DisclosureStatus.APPROVED)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            content = services.export_of(disclosure, staff=request.user, reason=form.cleaned_data["reason"],
                                         ip=client_ip(request))
            response = HttpResponse(content, content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="disclosure-{disclosure.pk}.json"'
            response["Cache-Control"] = "private, no-store"
            return response
        return self._page(request, "admin/compliance/disclosure/export.html", _("下载披露导出文件"),
                          disclosure=disclosure, form=form)

    def statistics_view(self, request):
        if not request.user.has_perm("compliance.view_identity_statistics"):
            raise PermissionDenied
        month = request.GET.get("month") or None
        table = statistics.identity_table(month)
        if month and month not in table.months:
            raise Http404
        return self._page(request, "admin/compliance/identity_statistics.html", _("实名认证统计"), table=table,
                          suppressed=statistics.SUPPRESSED, hidden=statistics.HIDDEN)
