"""Portal forms for fapiao and contract applications. Business rules live in the services; these only parse."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.core.money import MoneyError, yuan_to_fen

from .choices import FapiaoMedium, FapiaoType


class FapiaoForm(forms.Form):
    amount = forms.CharField(label=_("开票金额（元）"), max_length=16,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "100.00"}))
    fapiao_type = forms.ChoiceField(label=_("发票类型"), choices=FapiaoType.choices, initial=FapiaoType.NORMAL,
                                    widget=forms.RadioSelect)
    medium = forms.ChoiceField(label=_("发票形式"), choices=FapiaoMedium.choices, initial=FapiaoMedium.ELECTRONIC,
                               widget=forms.RadioSelect)
    email = forms.CharField(label=_("接收邮箱"), max_length=254, required=False,
                            help_text=_("留空则发送至账户邮箱。"))
    mailing_address = forms.CharField(label=_("邮寄地址"), max_length=300, required=False,
                                      help_text=_("纸质发票必填：收件人、电话、详细地址。"))
    registered_address = forms.CharField(label=_("注册地址"), max_length=200, required=False,
                                         help_text=_("以下四项仅专票需要填写。"))
    registered_phone = forms.CharField(label=_("注册电话"), max_length=30, required=False)
    bank_name = forms.CharField(label=_("开户银行"), max_length=100, required=False)
    bank_account = forms.CharField(label=_("银行账号"), max_length=40, required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "off"}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, allowed_types=None, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        if allowed_types is not None:
            self.fields["fapiao_type"].choices = [c for c in FapiaoType.choices() if c[0] in allowed_types]

    def clean_amount(self) -> int:
        try:
            fen = yuan_to_fen(self.cleaned_data["amount"])
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。"), code="invalid") from None
        return fen


class ContractForm(forms.Form):
    order = forms.ModelChoiceField(label=_("订单"), queryset=None, empty_label=None)

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders
        self.fields["order"].label_from_instance = lambda o: f"#{o.pk} {o.plan.name} {o.region.name} " \
                                                             f"{o.created_at:%Y-%m-%d}"
