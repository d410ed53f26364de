"""Forms of the account-and-security pages (profile, contacts, security question, step-up, recovery)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.accounts.security_models import Profile

CODE_WIDGET = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8})


class ProfileForm(forms.ModelForm):
    homepage = forms.URLField(label=_("个人主页"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Profile
        fields = ["real_name", "address", "nationality", "province", "city", "time_zone", "post_code", "fax",
                  "homepage", "job_title", "qq"]


class ContactStartForm(forms.Form):
    new_address = forms.CharField(label=_("新的联系方式"), max_length=254)


class ContactConfirmForm(forms.Form):
    new_address = forms.CharField(widget=forms.HiddenInput, max_length=254)
    new_code = forms.CharField(label=_("新联系方式收到的验证码"), max_length=8, widget=CODE_WIDGET)
    old_code = forms.CharField(label=_("原联系方式收到的验证码"), max_length=8, widget=CODE_WIDGET)


class SecurityQuestionForm(forms.Form):
    question = forms.CharField(label=_("密保问题"), max_length=200,
                               widget=forms.TextInput(attrs={"placeholder": _("例如：我的第一所学校叫什么？")}))
    answer = forms.CharField(label=_("答案"), max_length=200, widget=forms.PasswordInput(render_value=False),
                             help_text=_("答案不区分大小写，只保存其哈希，任何人（包括工作人员）都无法查看。"))


class StepUpForm(forms.Form):
    factor = forms.CharField(widget=forms.HiddenInput, max_length=16)
    secret = forms.CharField(label=_("密码或验证码"), max_length=128, strip=False,
                             widget=forms.PasswordInput(attrs={"autocomplete": "off"}))


class ReportForm(forms.Form):
    description = forms.CharField(label=_("情况说明（可选）"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=_("我确认要锁定账户：所有会话将被结束，所有 API 密钥将被吊销。"),
                                 error_messages={"required": _("请勾选确认。")})


class CancelAccountForm(forms.Form):
    confirm = forms.BooleanField(label=_("我已了解注销的后果，确认注销我的账户。"),
                                 error_messages={"required": _("请勾选确认。")})


class RecoverStartForm(forms.Form):
    identifier = forms.CharField(label=_("邮箱或手机号"), max_length=254)


class RecoverForm(forms.Form):
    identifier = forms.CharField(widget=forms.HiddenInput, max_length=254)
    code = forms.CharField(label=_("验证码"), max_length=8, widget=CODE_WIDGET)
    answer = forms.CharField(label=_("密保答案"), max_length=200, widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("新密码"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
