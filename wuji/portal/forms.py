"""Portal forms: they validate the shape of what the customer typed; the services decide the rest."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.api.scopes import Scope
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.compute import ssh_keys
from wuji.compute.choices import Operation
from wuji.core import clock
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
    """Scopes, IP allow-list and expiry are checked by the API key service; errors come back on these fields."""

    name = forms.CharField(label=_("名称"), max_length=64,
                           widget=forms.TextInput(attrs={"placeholder": _("例如：自动化脚本")}))
    scopes = forms.MultipleChoiceField(label=_("权限范围"), choices=Scope.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("每个密钥都可读取本账户的数据；修改操作需要对应的权限范围。"
                                                   "都不选即为只读密钥。"))
    allowed_ips = forms.CharField(label=_("IP 白名单（可选）"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3,
                                                               "placeholder": "203.0.113.0/24\n2001:db8::/32"}),
                                  help_text=_("每行一个 IP 地址或网段（CIDR，IPv4 或 IPv6）；留空则不限来源。"))
    expires_at = forms.DateField(label=_("有效期至（可选）"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("该日（北京时间）结束时失效；留空则长期有效。"))

    def allowed_ip_list(self) -> list[str]:
        return (self.cleaned_data.get("allowed_ips") or "").replace(",", " ").split()

    def expiry(self) -> dt.datetime | None:
        """The end of the chosen day in business time (the start of the next day)."""
        day = self.cleaned_data.get("expires_at")
        if day is None:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=clock.SHANGHAI)
