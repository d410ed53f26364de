"""Portal forms: they validate the shape of what the customer typed; the services decide the rest."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.compute import ssh_keys
from wuji.compute.choices import Operation
from wuji.core.money import MoneyError, yuan_to_fen


class RegisterForm(forms.Form):
    email = forms.EmailField(label=_("电子邮箱"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password1 = forms.CharField(label=_("密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=_("至少 10 位，不能全是数字，不能过于常见。"))
    password2 = forms.CharField(label=_("确认密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    phone = forms.CharField(label=_("手机号码（可选）"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
                            help_text=_("填写后需短信验证，可用手机号登录。"))
    phone_code = forms.CharField(label=_("短信验证码"), max_length=6, required=False, widget=forms.TextInput(
        attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    agreement_version = forms.CharField(widget=forms.HiddenInput, max_length=32)
    accept_agreement = forms.BooleanField(
        required=True, error_messages={"required": _("请阅读并勾选同意《武极云用户服务协议》。")}
    )

    # register_customer() keys its errors by its own argument names.
    SERVICE_FIELDS = {"email": "email", "password": "password1", "accept_agreement": "accept_agreement",
                      "phone": "phone", "phone_code": "phone_code"}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        for field, messages in message_dict.items():
            self.add_error(self.SERVICE_FIELDS.get(field), messages)


class TopUpForm(forms.Form):
    amount = forms.CharField(label=_("充值金额（元）"), max_length=16,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "100.00"}))

    def clean_amount(self) -> int:
        """Returns the amount in fen."""
        try:
            fen = yuan_to_fen(self.cleaned_data["amount"])
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。"), code="invalid") from None
        if fen <= 0:
            raise forms.ValidationError(_("充值金额必须大于 0。"), code="not_positive")
        return fen


class ServerChoiceForm(forms.Form):
    """Step one of buying: what to buy."""

    region = forms.ModelChoiceField(label=_("地域"), queryset=catalog.regions(), empty_label=None,
                                    widget=forms.RadioSelect)
    plan = forms.ModelChoiceField(label=_("配置"), queryset=catalog.plans(), empty_label=None,
                                  widget=forms.RadioSelect)
    image = forms.ModelChoiceField(label=_("系统镜像"), queryset=catalog.images(), empty_label=None,
                                   widget=forms.RadioSelect)
    cycle = forms.ChoiceField(label=_("计费周期"), choices=BillingCycle.choices, initial=BillingCycle.MONTHLY,
                              widget=forms.RadioSelect)
    name = forms.CharField(label=_("服务器名称"), max_length=64, required=False,
                           help_text=_("可留空，系统会自动命名。"))


class OrderForm(ServerChoiceForm):
    """Step two: the customer confirms the quoted price; the key makes a double submit harmless."""

    expected_amount = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


class ServerActionForm(forms.Form):
    operation = forms.ChoiceField(choices=Operation.choices)
    image = forms.ModelChoiceField(label=_("系统镜像"), queryset=catalog.images(), required=False)
    # Reinstall only; the compute service checks the key and refuses it with the reason.
    ssh_key = forms.CharField(label=_("SSH 公钥（可选）"), required=False, max_length=ssh_keys.MAX_LINE_CHARS,
                              widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ssh-ed25519 AAAA… user@host"}))
    key_only = forms.BooleanField(label=_("只用 SSH 公钥登录，不生成 root 密码"), required=False)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=64,
                           widget=forms.TextInput(attrs={"placeholder": _("例如：自动化脚本")}))
