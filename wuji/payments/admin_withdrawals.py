"""Console for money out: withdrawals (approve / reject), refund legs (mark a bank payout paid, retry a channel
call, give up on a leg) and bank accounts (masked; the full details only with a reason, logged)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.audit import services as audit
from wuji.core.admin import ReasonForm, action_page, client_ip, each_selected

from . import withdrawals
from .choices import RefundLegStatus, WithdrawalStatus
from .models import BankAccount, Refund, Withdrawal


class ReferenceForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("银行转账流水号"), max_length=64)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def _each(self, request, rows, call, done_message):
        each_selected(self, request, rows, call, refused=withdrawals.WithdrawalRefused, label=str,
                      done=lambda row: done_message % {"row": row})


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["refund_no", "channel", "topup", "amount_fen", "status", "attempts", "last_error", "channel_refund_no"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnly):
    list_display = ["id", "customer", "kind", "amount_fen", "fee_fen", "status", "bank_account", "created_at",
                    "decided_by"]
    list_filter = ["status", "kind"]
    search_fields = ["customer__email"]
    list_select_related = ["customer", "bank_account", "decided_by"]
    inlines = [RefundInline]
    actions = ["approve", "reject"]

    @admin.action(description=gettext_lazy("通过所选提现"), permissions=["change"])
    def approve(self, request, queryset):
        self._each(request, queryset.filter(status=WithdrawalStatus.AWAITING_APPROVAL), lambda w:
                   withdrawals.approve_withdrawal(w, staff=request.user, ip=client_ip(request)), _("已通过：%(row)s"))

    @admin.action(description=gettext_lazy("驳回所选提现（需填写原因）"), permissions=["change"])
    def reject(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "reject", _("驳回提现"))
        self._each(request, queryset.filter(status=WithdrawalStatus.AWAITING_APPROVAL), lambda w:
                   withdrawals.reject_withdrawal(w, staff=request.user, reason=form.cleaned_data["reason"],
                                                 ip=client_ip(request)), _("已驳回：%(row)s"))
        return None


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ["refund_no", "customer", "channel", "amount_fen", "status", "attempts", "last_error",
                    "bank_account", "withdrawal", "created_at"]
    list_filter = ["status", "channel"]
    search_fields = ["refund_no", "channel_refund_no", "customer__email"]
    list_select_related = ["customer", "bank_account", "withdrawal"]
    actions = ["mark_paid", "retry", "mark_failed"]

    @admin.action(description=gettext_lazy("银行转账已打款（需填写流水号）"), permissions=["change"])
    def mark_paid(self, request, queryset):
        form = ReferenceForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "mark_paid", _("确认银行转账已打款"))
        self._each(request, queryset.filter(status=RefundLegStatus.PENDING), lambda r:
                   withdrawals.mark_bank_payout_paid(r, staff=request.user, reference=form.cleaned_data["reference"],
                                                     ip=client_ip(request)), _("已确认打款：%(row)s"))
        return None

    @admin.action(description=gettext_lazy("重新向支付渠道发起退款"), permissions=["change"])
    def retry(self, request, queryset):
        self._each(request, queryset.filter(status=RefundLegStatus.PENDING), lambda r:
                   withdrawals.retry_refund(r, staff=request.user, ip=client_ip(request)), _("已重新发起：%(row)s"))

    @admin.action(description=gettext_lazy("标记失败并退回客户余额（需填写原因）"), permissions=["change"])
    def mark_failed(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "mark_failed", _("退款失败"))
        self._each(request, queryset.filter(status=RefundLegStatus.PENDING), lambda r:
                   withdrawals.fail_refund(r, staff=request.user, reason=form.cleaned_data["reason"],
                                           ip=client_ip(request)), _("已退回余额：%(row)s"))
        return None


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnly):
    list_display = ["id", "customer", "masked", "created_at", "removed_at"]
    search_fields = ["customer__email", "number_last4"]
    list_select_related = ["customer"]
    exclude = ["holder_encrypted", "bank_encrypted", "branch_encrypted", "number_encrypted", "number_hash"]
    actions = ["reveal"]

    def get_readonly_fields(self, request, obj=None):
        return ["customer", "number_last4", "created_at", "removed_at"]

    def get_search_results(self, request, queryset, search_term):
        """A full account number is searched by its keyed hash (the columns hold no plain text)."""
        term = (search_term or "").replace(" ", "")
        if term.isdigit() and len(term) >= 8:
            return queryset.filter(number_hash=withdrawals.number_hash(term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=gettext_lazy("查看完整账户信息（需填写原因，记入查阅日志）"), permissions=["change"])
    def reveal(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "reveal", _("查看银行账户"))
        for account in queryset.select_related("customer"):
            audit.record_data_access(staff=request.user, subject=account.customer, field="bank_account",
                                     reason=form.cleaned_data["reason"], target=account, ip=client_ip(request))
            details = withdrawals.bank_details(account)
            self.message_user(request, f"#{account.pk} {details['holder']} · {details['bank']} {details['branch']} · "
                                       f"{details['number']}")
        return None
