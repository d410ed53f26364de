"""Money out in the portal: fund freezes and appeals (冻结与申诉, 5.4.7), withdrawals (提现) with their refund
legs, and the bank accounts they may be paid to (6.3, shown masked). Views call the services only."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuji.accounts import services as accounts
from wuji.billing import freezes
from wuji.core.money import MoneyError, yuan_to_fen
from wuji.ledger import services as ledger
from wuji.payments import withdrawals

from ..http import client_ip, paginate
from .security import step_up_redirect


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return super().clean(data, initial)


class AppealForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("申诉说明"), max_length=freezes.MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=gettext_lazy("请说明资金来源和用途等情况，可附上证明材料。"))
    files = MultipleFileField(label=gettext_lazy("证明材料（可选，JPEG、PNG 或 PDF，最多 5 个，每个不超过 10 MB）"),
                              required=False)


class WithdrawForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("提现金额（元）"), max_length=16,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "100.00"}))
    bank_account = forms.ModelChoiceField(
        label=gettext_lazy("收款银行账户（无法原路退回的部分打入此账户）"), queryset=None, required=False,
        empty_label=gettext_lazy("不使用银行账户"))
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    step_up_totp = forms.CharField(label=gettext_lazy("身份验证器验证码（可选）"), max_length=8, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                                 "autocomplete": "one-time-code"}))

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = withdrawals.bank_accounts_of(customer)

    def clean_amount(self) -> int:
        try:
            fen = yuan_to_fen(self.cleaned_data["amount"])
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。"), code="invalid") from None
        if fen <= 0:
            raise forms.ValidationError(_("提现金额必须大于 0。"), code="not_positive")
        return fen


class BankAccountForm(forms.Form):
    holder = forms.CharField(label=gettext_lazy("开户名"), max_length=100,
                             help_text=gettext_lazy("须与实名认证的姓名或企业名称一致。"))
    bank = forms.CharField(label=gettext_lazy("开户银行"), max_length=50)
    branch = forms.CharField(label=gettext_lazy("开户支行"), max_length=100)
    number = forms.CharField(label=gettext_lazy("银行账号"), max_length=40,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))


# --- Freezes and appeals ------------------------------------------------------------------------------


@login_required
def freeze_list(request):
    return render(request, "portal/freezes.html", {
        "page": paginate(request, freezes.freezes_of(request.user)),
        "balances": ledger.balances(request.user),
    })


@login_required
def freeze_detail(request, pk: int):
    freeze = get_object_or_404(freezes.freezes_of(request.user), pk=pk)
    form = AppealForm()
    if request.method == "POST":
        form = AppealForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                uploads = [freezes.upload_from(f) for f in request.FILES.getlist("files")]
                freezes.submit_appeal(freeze=freeze, customer=request.user, text=form.cleaned_data["text"],
                                      files=uploads, channel="web", ip=client_ip(request))
            except freezes.FreezeRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("申诉已提交，审核结果将通过站内信、邮件和短信通知您。"))
                return redirect("portal:freeze", pk=freeze.pk)
    appeal = getattr(freeze, "appeal", None)
    return render(request, "portal/freeze.html", {
        "freeze": freeze, "appeal": appeal, "form": form, "can_appeal": freezes.can_appeal(freeze),
        "appeal_files": freezes.appeal_files_of(freeze), "refunds": freeze.refunds.prefetch_related("refunds"),
    })


# --- Withdrawals ----------------------------------------------------------------------------------------


def _withdraw_page(request, form, bank_form=None):
    customer = request.user
    return render(request, "portal/withdraw.html", {
        "form": form,
        "bank_form": bank_form or BankAccountForm(),
        "balances": ledger.balances(customer),
        "rules": withdrawals.rules(),
        "bank_accounts": withdrawals.bank_accounts_of(customer),
        "page": paginate(request, withdrawals.withdrawals_of(customer).prefetch_related("refunds")),
    })


@login_required
def withdraw(request):
    customer = request.user
    if request.method != "POST":
        return _withdraw_page(request, WithdrawForm(customer=customer, initial={"idempotency_key": uuid.uuid4()}))
    form = WithdrawForm(request.POST, customer=customer)
    if not form.is_valid():
        return _withdraw_page(request, form)
    try:
        factor = accounts.require_step_up(request, "withdrawal")
    except accounts.StepUpRequired as exc:
        return step_up_redirect(request, exc, reverse("portal:withdraw"))
    except accounts.StepUpFailed as exc:
        form.add_error("step_up_totp", str(exc))
        return _withdraw_page(request, form)
    try:
        withdrawal = withdrawals.request_withdrawal(
            customer=customer, amount_fen=form.cleaned_data["amount"], bank_account=form.cleaned_data["bank_account"],
            idempotency_key=str(form.cleaned_data["idempotency_key"]), factor=factor, channel="web",
            ip=client_ip(request))
    except withdrawals.WithdrawalRefused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _withdraw_page(request, form)
    messages.success(request, _("提现申请已提交（%(status)s）。") % {"status": withdrawal.get_status_display()})
    return redirect("portal:withdraw")


@login_required
@require_POST
def withdrawal_cancel(request, pk: int):
    withdrawal = get_object_or_404(withdrawals.withdrawals_of(request.user), pk=pk)
    try:
        withdrawals.cancel_withdrawal(withdrawal, actor=request.user, channel="web", ip=client_ip(request))
    except withdrawals.WithdrawalRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("提现已取消，款项已退回现金余额。"))
    return redirect("portal:withdraw")


@login_required
@require_POST
def bank_account_add(request):
    bank_form = BankAccountForm(request.POST)
    if bank_form.is_valid():
        try:
            withdrawals.add_bank_account(customer=request.user, channel="web", ip=client_ip(request),
                                         **bank_form.cleaned_data)
        except withdrawals.WithdrawalRefused as exc:
            bank_form.add_error(exc.field if exc.field in bank_form.fields else None, exc.message)
        else:
            messages.success(request, _("银行账户已添加。"))
            return redirect("portal:withdraw")
    form = WithdrawForm(customer=request.user, initial={"idempotency_key": uuid.uuid4()})
    return _withdraw_page(request, form, bank_form)


@login_required
@require_POST
def bank_account_remove(request, pk: int):
    account = get_object_or_404(withdrawals.bank_accounts_of(request.user), pk=pk)
    try:
        withdrawals.remove_bank_account(account, actor=request.user, channel="web", ip=client_ip(request))
    except withdrawals.WithdrawalRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("银行账户已删除。"))
    return redirect("portal:withdraw")
