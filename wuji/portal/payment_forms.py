"""Forms of the wallet's payment pages: choosing a channel, declaring a bank transfer."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.core.money import MoneyError, yuan_to_fen
from wuji.payments.choices import PaymentChannel

from .forms import TopUpForm


class ChannelTopUpForm(TopUpForm):
    channel = forms.ChoiceField(label=_("支付方式"), widget=forms.RadioSelect, required=False)

    def __init__(self, *args, channels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.channels = channels
        self.fields["channel"].choices = [(c, PaymentChannel.label(c)) for c in channels]
        if channels:
            self.fields["channel"].initial = channels[0]

    def clean_channel(self) -> str:
        # A form without a choice (one channel offered) pays with the first one.
        return self.cleaned_data.get("channel") or (self.channels[0] if self.channels else "")


class BankTransferForm(forms.Form):
    amount = forms.CharField(label=_("转账金额（元）"), max_length=16,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1000.00"}))
    payer_name = forms.CharField(label=_("付款账户名称"), max_length=100)
    payer_bank = forms.CharField(label=_("付款银行"), max_length=100)
    transfer_date = forms.DateField(label=_("转账日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("转账附言 / 流水号"), max_length=100, required=False)
    receipt = forms.FileField(label=_("银行回单（可选，PDF/PNG/JPEG）"), required=False)

    def clean_amount(self) -> int:
        try:
            fen = yuan_to_fen(self.cleaned_data["amount"])
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。"), code="invalid") from None
        if fen <= 0:
            raise forms.ValidationError(_("转账金额必须大于 0。"), code="not_positive")
        return fen
