"""Form fields shared by the portal and the console."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .money import MoneyError, yuan_to_fen


class YuanField(forms.CharField):
    """An amount typed in 元 ("12.34"), cleaned to a positive integer number of 分 (1234). More than two
    decimals is an error, never a rounding."""

    default_error_messages = {
        "invalid_amount": _("请输入正确的金额（元），最多两位小数。"),
        "not_positive": _("金额必须大于 0。"),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "100.00"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)  # the text, checked for length and presence
        if value in self.empty_values:
            return None
        try:
            fen = yuan_to_fen(value)
        except MoneyError:
            raise forms.ValidationError(self.error_messages["invalid_amount"], code="invalid_amount") from None
        if fen <= 0:
            raise forms.ValidationError(self.error_messages["not_positive"], code="not_positive")
        return fen
