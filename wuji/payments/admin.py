"""Operator console for payments: top-ups and the notice log are read-only (the ledger's data); bank-transfer
declarations are confirmed or rejected by finance staff through the services, with the shared action form."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.audit import services as audit
from wuji.core.admin import ReadOnlyAdmin, action_page, client_ip
from wuji.core.money import MoneyError, yuan_to_fen

from . import services
from .choices import BankTransferStatus
from .models import BankTransfer, PaymentNotice, TopUp
from .storage import decrypted_bytes


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = ["out_trade_no", "customer", "channel", "amount_fen", "status", "channel_trade_no", "created_at",
                    "expires_at", "paid_at"]
    list_filter = ["channel", "status"]
    search_fields = ["out_trade_no", "channel_trade_no", "customer__email"]
    list_select_related = ["customer"]


@admin.register(PaymentNotice)
class PaymentNoticeAdmin(ReadOnlyAdmin):
    """Every notice received, trusted or not: refused, tampered and replayed ones stand out here."""

    list_display = ["id", "received_at", "channel", "outcome", "verified", "repeated", "out_trade_no",
                    "channel_trade_no", "amount_fen", "detail", "ip"]
    list_filter = ["channel", "outcome", "verified", "repeated"]
    search_fields = ["out_trade_no", "channel_trade_no", "digest"]


class ReceivedForm(forms.Form):
    received = forms.CharField(label=gettext_lazy("实际到账金额（元）"), max_length=16)

    def clean_received(self) -> int:
        try:
            fen = yuan_to_fen(self.cleaned_data["received"])
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。")) from None
        if fen <= 0:
            raise forms.ValidationError(_("到账金额必须大于 0。"))
        return fen


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("驳回原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(BankTransfer)
class BankTransferAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "amount_fen", "payer_name", "payer_bank", "transfer_date", "reference",
                    "status", "received_fen", "reviewed_by", "reviewed_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["customer__email", "payer_name", "reference"]
    list_select_related = ["customer", "reviewed_by"]
    exclude = ["receipt"]
    actions = ["confirm_selected", "reject_selected"]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or services.can_review(request.user)

    def has_review_permission(self, request):
        return services.can_review(request.user)

    def get_urls(self):
        return [path("<int:pk>/receipt/", self.admin_site.admin_view(self.receipt_view),
                     name="payments_banktransfer_receipt"), *super().get_urls()]

    def receipt_view(self, request, pk: int):
        """The bank receipt, for finance only; each view is written to the staff data-access log."""
        if not services.can_review(request.user):
            raise PermissionDenied
        transfer = get_object_or_404(BankTransfer.objects.select_related("customer").exclude(receipt=""), pk=pk)
        audit.record_data_access(staff=request.user, subject=transfer.customer, field="bank_receipt",
                                 reason=_("核对对公转账"), target=transfer, ip=client_ip(request))
        response = HttpResponse(decrypted_bytes(transfer.receipt), content_type=transfer.receipt_content_type)
        response["Cache-Control"] = "private, no-store"
        return response

    def _form(self, request, queryset, action: str, title: str, form_class):
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return form.cleaned_data
        return action_page(self, request, queryset, form, action, title)

    @admin.action(description=gettext_lazy("确认到账并入账（填写实际到账金额）"), permissions=["review"])
    def confirm_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请一次只确认一笔转账（每笔须填写实际到账金额）。"), messages.ERROR)
            return None
        result = self._form(request, queryset, "confirm_selected", _("确认对公转账到账"), ReceivedForm)
        if not isinstance(result, dict):
            return result
        transfer = queryset.get()
        try:
            services.confirm_bank_transfer(transfer, request.user, received_fen=result["received"],
                                           ip=client_ip(request))
        except services.PaymentError as exc:
            self.message_user(request, f"{transfer}: {exc}", messages.ERROR)
        else:
            self.message_user(request, _("已确认 %(no)s 到账并入账。") % {"no": transfer.number})
        return None

    @admin.action(description=gettext_lazy("驳回所选转账登记（需填写原因）"), permissions=["review"])
    def reject_selected(self, request, queryset):
        result = self._form(request, queryset, "reject_selected", _("驳回对公转账登记"), RejectForm)
        if not isinstance(result, dict):
            return result
        done = 0
        for transfer in queryset.filter(status=BankTransferStatus.PENDING):
            try:
                services.reject_bank_transfer(transfer, request.user, reason=result["reason"], ip=client_ip(request))
                done += 1
            except services.PaymentError as exc:
                self.message_user(request, f"{transfer}: {exc}", messages.ERROR)
        self.message_user(request, _("已驳回 %(n)s 笔转账登记。") % {"n": done})
        return None


from . import admin_withdrawals  # noqa: E402,F401  (withdrawals, refunds, bank accounts)
