"""Operator console (finance staff): issue, reject or red-reverse fapiao applications, approve or reject contracts,
confirm general taxpayers — every change through the services. Records are read-only in the forms. A full bank
account number is shown only on request with a reason, written to the staff data-access log."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.audit import services as audit
from wuji.core import clock
from wuji.core.admin import ReasonForm, action_page, client_ip
from wuji.core.money import fen_to_yuan

from . import services
from .choices import ContractStatus, FapiaoStatus
from .models import Contract, FapiaoApplication, GeneralTaxpayer


class IssueForm(forms.Form):
    fapiao_number = forms.CharField(label=gettext_lazy("发票号码"), max_length=20,
                                    help_text=gettext_lazy("数电票 20 位数字；旧版发票 8 位数字。"))
    issued_on = forms.DateField(label=gettext_lazy("开票日期"), widget=forms.DateInput(attrs={"type": "date"}))
    pdf = forms.FileField(label=gettext_lazy("发票 PDF"), required=False,
                          help_text=gettext_lazy("数电票必须上传；纸质发票可不上传。"))


class RedReverseForm(ReasonForm):
    red_number = forms.CharField(label=gettext_lazy("红字发票号码"), max_length=20)


class ActionFormMixin:
    """Actions that need input: the shared confirmation page (multipart when a file is uploaded)."""

    def _form_step(self, request, queryset, action: str, title: str, form_class, *, initial=None):
        bound = "apply" in request.POST
        form = form_class(request.POST if bound else None, request.FILES if bound else None, initial=initial)
        if form.is_bound and form.is_valid():
            return form.cleaned_data
        return action_page(self, request, queryset, form, action, title)

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一项。"), messages.ERROR)
            return None
        return queryset.first()

    def _report(self, request, label, exc) -> None:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        self.message_user(request, f"{label}: {text}", messages.ERROR)


@admin.register(FapiaoApplication)
class FapiaoApplicationAdmin(ActionFormMixin, admin.ModelAdmin):
    list_display = ["id", "customer", "title_name", "taxpayer_id", "fapiao_type", "medium", "amount_yuan", "status",
                    "fapiao_number", "applied_at", "reviewed_by"]
    list_filter = ["status", "fapiao_type", "medium"]
    search_fields = ["customer__email", "title_name", "taxpayer_id", "fapiao_number", "red_number"]
    list_select_related = ["customer", "reviewed_by"]
    exclude = ["bank_account_encrypted", "pdf", "idempotency_key"]
    readonly_fields = ["customer", "status", "fapiao_type", "medium", "amount_fen", "title_kind", "title_name",
                       "taxpayer_id", "registered_address", "registered_phone", "bank_name", "bank_account_masked",
                       "email", "mailing_address", "applied_at", "reviewed_by", "reviewed_at", "reject_reason",
                       "fapiao_number", "issued_on", "pdf_link", "reversed_by", "reversed_at", "red_number",
                       "reverse_reason", "invoiceable_now"]
    actions = ["issue_selected", "reject_selected", "red_reverse_selected", "reveal_bank_account"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("金额（元）"), ordering="amount_fen")
    def amount_yuan(self, obj):
        return fen_to_yuan(obj.amount_fen)

    @admin.display(description=gettext_lazy("客户当前可开票金额（分）"))
    def invoiceable_now(self, obj):
        state = services.summary(obj.customer)
        return f"{state.invoiceable_fen}（{_('欠票')} {state.debt_fen}）"

    @admin.display(description=gettext_lazy("发票文件"))
    def pdf_link(self, obj):
        if not obj.pdf:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:finance_fapiaoapplication_pdf", args=[obj.pk]),
                           _("下载"))

    def get_urls(self):
        return [path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="finance_fapiaoapplication_pdf"),
                *super().get_urls()]

    def pdf_view(self, request, pk: int):
        if not request.user.has_perm("finance.view_fapiaoapplication"):
            raise PermissionDenied
        application = get_object_or_404(FapiaoApplication.objects.exclude(pdf=""), pk=pk)
        response = HttpResponse(services.fapiao_pdf(application), content_type="application/pdf")
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description=gettext_lazy("开具所选申请（填写发票号码、上传 PDF）"), permissions=["change"])
    def issue_selected(self, request, queryset):
        application = self._one(request, queryset.filter(status=FapiaoStatus.PENDING))
        if application is None:
            return None
        result = self._form_step(request, queryset, "issue_selected", _("开具发票"), IssueForm,
                                 initial={"issued_on": clock.local_now().date()})
        if not isinstance(result, dict):
            return result
        try:
            services.issue_fapiao(application, request.user, number=result["fapiao_number"],
                                  issued_on=result["issued_on"], pdf=result["pdf"], ip=client_ip(request))
        except (ValidationError, services.FinanceRefused) as exc:
            self._report(request, application, exc)
            return None
        self.message_user(request, _("已开具发票 %(number)s。") % {"number": result["fapiao_number"]})
        return None

    @admin.action(description=gettext_lazy("驳回所选的待开具申请（需填写原因）"), permissions=["change"])
    def reject_selected(self, request, queryset):
        result = self._form_step(request, queryset, "reject_selected", _("驳回发票申请"), ReasonForm)
        if not isinstance(result, dict):
            return result
        done = 0
        for application in queryset.filter(status=FapiaoStatus.PENDING):
            try:
                services.reject_application(application, request.user, result["reason"], ip=client_ip(request))
                done += 1
            except services.FinanceRefused as exc:
                self._report(request, application, exc)
        self.message_user(request, _("已驳回 %(n)s 个申请。") % {"n": done})
        return None

    @admin.action(description=gettext_lazy("红冲所选的已开具发票（填写红字发票号码和原因）"), permissions=["change"])
    def red_reverse_selected(self, request, queryset):
        application = self._one(request, queryset.filter(status=FapiaoStatus.ISSUED))
        if application is None:
            return None
        result = self._form_step(request, queryset, "red_reverse_selected", _("红冲发票"), RedReverseForm)
        if not isinstance(result, dict):
            return result
        try:
            services.red_reverse(application, request.user, red_number=result["red_number"],
                                 reason=result["reason"], ip=client_ip(request))
        except (ValidationError, services.FinanceRefused) as exc:
            self._report(request, application, exc)
            return None
        self.message_user(request, _("已红冲发票 %(number)s。") % {"number": application.fapiao_number})
        return None

    @admin.action(description=gettext_lazy("查看完整银行账号（需填写原因，记录访问）"), permissions=["change"])
    def reveal_bank_account(self, request, queryset):
        application = self._one(request, queryset.exclude(bank_account_encrypted=""))
        if application is None:
            return None
        result = self._form_step(request, queryset, "reveal_bank_account", _("查看完整银行账号"), ReasonForm)
        if not isinstance(result, dict):
            return result
        audit.record_data_access(staff=request.user, subject=application.customer, field="fapiao_bank_account",
                                 reason=result["reason"], target=application, ip=client_ip(request))
        self.message_user(request, _("申请 #%(id)s 的银行账号：%(number)s") % {
            "id": application.pk, "number": services.bank_account_of(application)})
        return None


@admin.register(Contract)
class ContractAdmin(ActionFormMixin, admin.ModelAdmin):
    list_display = ["id", "customer", "order", "status", "number", "party_name", "applied_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["customer__email", "number", "party_name"]
    list_select_related = ["customer", "order", "reviewed_by"]
    exclude = ["pdf"]
    readonly_fields = ["customer", "order", "status", "number", "party_name", "party_number", "agreement_version",
                       "applied_at", "reviewed_by", "reviewed_at", "reject_reason", "pdf_link"]
    actions = ["approve_selected", "reject_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("合同文件"))
    def pdf_link(self, obj):
        if obj.status != ContractStatus.APPROVED:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:finance_contract_pdf", args=[obj.pk]), _("下载"))

    def get_urls(self):
        return [path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="finance_contract_pdf"),
                *super().get_urls()]

    def pdf_view(self, request, pk: int):
        if not request.user.has_perm("finance.view_contract"):
            raise PermissionDenied
        contract = get_object_or_404(Contract, pk=pk, status=ContractStatus.APPROVED)
        response = HttpResponse(services.contract_pdf(contract), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{contract.number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description=gettext_lazy("通过所选合同申请并生成合同"), permissions=["change"])
    def approve_selected(self, request, queryset):
        done = 0
        for contract in queryset.filter(status=ContractStatus.PENDING):
            try:
                services.approve_contract(contract, request.user, ip=client_ip(request))
                done += 1
            except services.FinanceRefused as exc:
                self._report(request, contract, exc)
        self.message_user(request, _("已生成 %(n)s 份合同。") % {"n": done})

    @admin.action(description=gettext_lazy("驳回所选合同申请（需填写原因）"), permissions=["change"])
    def reject_selected(self, request, queryset):
        result = self._form_step(request, queryset, "reject_selected", _("驳回合同申请"), ReasonForm)
        if not isinstance(result, dict):
            return result
        done = 0
        for contract in queryset.filter(status=ContractStatus.PENDING):
            try:
                services.reject_contract(contract, request.user, result["reason"], ip=client_ip(request))
                done += 1
            except services.FinanceRefused as exc:
                self._report(request, contract, exc)
        self.message_user(request, _("已驳回 %(n)s 份合同申请。") % {"n": done})
        return None


class GeneralTaxpayerForm(forms.ModelForm):
    customer_email = forms.EmailField(label=gettext_lazy("客户邮箱"))

    class Meta:
        model = GeneralTaxpayer
        fields = ["evidence"]
        widgets = {"evidence": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"evidence": gettext_lazy("例如：国家税务总局网站一般纳税人资格查询结果及查询日期。")}

    def clean_customer_email(self):
        email = self.cleaned_data["customer_email"]
        customer = get_user_model().objects.filter(email__iexact=email).first()
        if customer is None:
            raise ValidationError(_("没有该邮箱的客户。"))
        title = services.title_of(customer)
        if title is None or title.kind != "enterprise":
            raise ValidationError(_("只有完成企业实名认证的客户才能确认为一般纳税人。"))
        if title.general_taxpayer is not None:
            raise ValidationError(_("该客户已被确认为一般纳税人。"))
        self.customer = customer
        return email


@admin.register(GeneralTaxpayer)
class GeneralTaxpayerAdmin(ActionFormMixin, admin.ModelAdmin):
    """Adding a row is the staff confirmation (through the service); revoking is an action with a reason."""

    list_display = ["id", "customer", "company_name", "confirmed_by", "confirmed_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["customer__email", "company_name"]
    list_select_related = ["customer", "confirmed_by"]
    readonly_fields = ["customer", "company_name", "evidence", "confirmed_by", "confirmed_at", "revoked_by",
                       "revoked_at", "revoke_reason"]
    exclude = ["number_hash"]
    actions = ["revoke_selected"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = GeneralTaxpayerForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["customer_email", "evidence"] if obj is None else super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        confirmation = services.confirm_general_taxpayer(form.customer, request.user,
                                                         evidence=form.cleaned_data["evidence"], ip=client_ip(request))
        obj.pk = confirmation.pk
        obj.customer, obj.company_name = confirmation.customer, confirmation.company_name

    @admin.action(description=gettext_lazy("撤销所选确认（需填写原因）"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        result = self._form_step(request, queryset, "revoke_selected", _("撤销一般纳税人确认"), ReasonForm)
        if not isinstance(result, dict):
            return result
        for confirmation in queryset.filter(revoked_at__isnull=True):
            services.revoke_general_taxpayer(confirmation, request.user, result["reason"], ip=client_ip(request))
        self.message_user(request, _("已撤销。"))
        return None
