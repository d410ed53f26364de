"""Operator console: review verifications (通过 / 驳回) through the services, flag false information, lift a
restriction or cancel the membership (2.1.3), and show a full number or a document only on an explicit
request with a reason — each written to the staff data-access log (ARCHITECTURE §3.8)."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.audit import services as audit
from wuji.core import clock
from wuji.core.admin import LogsPersonalDataViews, ReasonForm, action_page, client_ip

from . import services
from .choices import VerificationStatus
from .models import FalseInformationFlag, Verification

REVEAL_PERMISSION = "identity.reveal_identity_number"




class FlagForm(ReasonForm):
    days = forms.IntegerField(label=gettext_lazy("更正期限（天）"), min_value=1, max_value=90, initial=15)


@admin.register(Verification)
class VerificationAdmin(LogsPersonalDataViews, admin.ModelAdmin):
    """Read-only in the form; every change is a service call from the review box or an action. Opening one
    is logged (name and masked number on the page); the full number and the document need `reveal_view`."""

    personal_data = "verification"

    def personal_data_subject(self, obj):
        return obj.user

    list_display = ["id", "user", "kind", "name", "number_masked", "status", "warning", "submitted_at",
                    "reviewed_by", "reviewed_at"]
    list_filter = ["status", "kind"]
    search_fields = ["user__email", "name"]
    list_select_related = ["user", "reviewed_by"]
    exclude = ["number_encrypted", "number_hash", "document"]
    readonly_fields = ["user", "kind", "status", "name", "legal_representative", "number_masked", "document_type",
                       "warning", "provider", "provider_reference", "submitted_at", "reviewed_by", "reviewed_at",
                       "reason"]
    actions = ["approve_selected", "reject_selected", "flag_false_information"]
    change_form_template = "admin/identity/verification/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        """A full ID number or credit code is searched by its keyed hash (the column holds no plain text)."""
        term = (search_term or "").strip().upper()
        if len(term) == 18:
            return queryset.filter(number_hash=services.number_hash(term)), False
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/review/", wrap(self.review_view), name="identity_verification_review"),
            path("<int:pk>/reveal/", wrap(self.reveal_view), name="identity_verification_reveal"),
            path("<int:pk>/document/", wrap(self.document_view), name="identity_verification_document"),
            *super().get_urls(),
        ]

    def _change_url(self, pk: int) -> str:
        return reverse("admin:identity_verification_change", args=[pk])

    def _require(self, request, perm: str) -> None:
        if not request.user.has_perm(perm):
            raise PermissionDenied

    # --- Review -------------------------------------------------------------------------------------

    def review_view(self, request, pk: int):
        self._require(request, "identity.change_verification")
        verification = get_object_or_404(Verification, pk=pk)
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(pk))
        decision, reason = request.POST.get("decision"), request.POST.get("reason", "")
        try:
            if decision == "approve":
                services.approve(verification, request.user, reason=reason, ip=client_ip(request))
                self.message_user(request, _("已通过实名认证：%(v)s") % {"v": verification})
            elif decision == "reject":
                services.reject(verification, request.user, reason, ip=client_ip(request))
                self.message_user(request, _("已驳回实名认证：%(v)s") % {"v": verification})
        except services.ReviewRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(self._change_url(pk))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_review": request.user.has_perm("identity.change_verification"),
                         "can_reveal": request.user.has_perm(REVEAL_PERMISSION),
                         "pending": Verification.objects.filter(pk=object_id,
                                                                status=VerificationStatus.PENDING).exists()}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- Showing personal data in the clear, logged --------------------------------------------------

    def reveal_view(self, request, pk: int):
        """Ask for a reason, log the access, then show the full number (and a link to the document)."""
        self._require(request, REVEAL_PERMISSION)
        verification = get_object_or_404(Verification.objects.select_related("user"), pk=pk)
        form = ReasonForm(request.POST or None)
        number = None
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            audit.record_data_access(staff=request.user, subject=verification.user, field="identity_number",
                                     reason=reason, target=verification, ip=client_ip(request))
            number = services.number_of(verification)
        return TemplateResponse(request, "admin/identity/verification/reveal.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": _("查看完整证件号码"),
            "verification": verification, "form": form, "number": number,
            "reason": form.cleaned_data.get("reason") if number else "",
        })

    def document_view(self, request, pk: int):
        self._require(request, REVEAL_PERMISSION)
        verification = get_object_or_404(Verification.objects.select_related("user").exclude(document=""), pk=pk)
        reason = (request.GET.get("reason") or "").strip()
        if not reason:
            return HttpResponseRedirect(reverse("admin:identity_verification_reveal", args=[pk]))
        audit.record_data_access(staff=request.user, subject=verification.user, field="identity_document",
                                 reason=reason, target=verification, ip=client_ip(request))
        data, content_type = services.document_of(verification)
        response = HttpResponse(data, content_type=content_type)
        response["Cache-Control"] = "private, no-store"
        return response

    # --- Actions -------------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("通过所选的待审核申请"), permissions=["change"])
    def approve_selected(self, request, queryset):
        done = 0
        for verification in queryset.filter(status=VerificationStatus.PENDING):
            try:
                services.approve(verification, request.user, ip=client_ip(request))
                done += 1
            except services.ReviewRefused as exc:
                self.message_user(request, f"{verification}: {exc}", messages.ERROR)
        self.message_user(request, _("已通过 %(n)s 个申请。") % {"n": done})

    def _with_reason(self, request, queryset, action: str, title: str, form_class=ReasonForm):
        """An action that needs a reason: an intermediate page first, the service calls on its POST."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return form.cleaned_data
        return action_page(self, request, queryset, form, action, title)

    @admin.action(description=gettext_lazy("驳回所选的待审核申请（需填写原因）"), permissions=["change"])
    def reject_selected(self, request, queryset):
        result = self._with_reason(request, queryset, "reject_selected", _("驳回实名认证"))
        if not isinstance(result, dict):
            return result
        done = 0
        for verification in queryset.filter(status=VerificationStatus.PENDING):
            services.reject(verification, request.user, result["reason"], ip=client_ip(request))
            done += 1
        self.message_user(request, _("已驳回 %(n)s 个申请。") % {"n": done})
        return None

    @admin.action(description=gettext_lazy("标记虚假信息并要求更正（2.1.3）"), permissions=["change"])
    def flag_false_information(self, request, queryset):
        result = self._with_reason(request, queryset, "flag_false_information", _("标记虚假信息"), FlagForm)
        if not isinstance(result, dict):
            return result
        deadline = clock.now() + dt.timedelta(days=result["days"])
        for user in {v.user for v in queryset.select_related("user")}:
            try:
                services.flag_false_information(user, request.user, result["reason"], deadline, ip=client_ip(request))
            except ValidationError as exc:
                self.message_user(request, f"{user}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, _("已发送更正通知。"))
        return None


@admin.register(FalseInformationFlag)
class FalseInformationFlagAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "reason", "deadline", "flagged_by", "created_at", "resolved_at",
                    "cancelled_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "reason"]
    list_select_related = ["user", "flagged_by"]
    readonly_fields = [f.name for f in FalseInformationFlag._meta.fields]
    actions = ["lift_selected", "restrict_overdue_now", "cancel_membership_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _reason(self, request, queryset, action: str, title: str):
        """The reason page of an action; returns the reason once the form is posted and valid."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return form.cleaned_data["reason"]
        return action_page(self, request, queryset, form, action, title)

    @admin.action(description=gettext_lazy("解除所选标记或限制（需填写原因）"), permissions=["change"])
    def lift_selected(self, request, queryset):
        reason = self._reason(request, queryset, "lift_selected", _("解除限制"))
        if not isinstance(reason, str):
            return reason
        for flag in queryset:
            try:
                services.lift_restriction(flag, request.user, reason, ip=client_ip(request))
            except services.ReviewRefused as exc:
                self.message_user(request, f"{flag}: {exc}", messages.ERROR)
        return None

    @admin.action(description=gettext_lazy("立即执行逾期限制检查"), permissions=["change"])
    def restrict_overdue_now(self, request, queryset):
        self.message_user(request, _("已限制 %(n)s 个账户。") % {"n": services.restrict_overdue()})

    @admin.action(description=gettext_lazy("注销会员资格并终止服务（逾期未更正，2.1.3；需填写原因）"),
                  permissions=["change"])
    def cancel_membership_selected(self, request, queryset):
        """Cancel the membership of each selected flag's account through the service; a refusal (no overdue
        flag, money or servers left) is shown as it is, and that account is left untouched."""
        reason = self._reason(request, queryset, "cancel_membership_selected", _("注销会员资格"))
        if not isinstance(reason, str):
            return reason
        done = 0
        for user in {flag.user for flag in queryset.select_related("user")}:
            try:
                services.cancel_membership(user, request.user, reason, ip=client_ip(request))
                done += 1
            except ValidationError as exc:
                why = " ".join(exc.messages)
                self.message_user(request, _("%(user)s 未注销：%(why)s") % {"user": user, "why": why}, messages.ERROR)
        if done:
            self.message_user(request, _("已注销 %(n)s 个账户的会员资格。") % {"n": done})
        return None
