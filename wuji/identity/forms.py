"""Portal forms for real-name verification: shape only; the services validate numbers and decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

DOCUMENT_ACCEPT = "image/jpeg,image/png,application/pdf"


class IndividualForm(forms.Form):
    name = forms.CharField(label=_("真实姓名"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = forms.CharField(label=_("身份证号码"), max_length=32,
                                help_text=_("18 位第二代居民身份证号码，末位 X 大小写均可。"),
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    document = forms.FileField(label=_("身份证人像面照片（可选）"), required=False,
                               help_text=_("JPEG、PNG 或 PDF，不超过 5 MB；加密保存，仅您本人和审核人员可见。"),
                               widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}))


class EnterpriseForm(forms.Form):
    company_name = forms.CharField(label=_("企业名称"), max_length=100)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=32,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    legal_representative = forms.CharField(label=_("法定代表人姓名"), max_length=50)
    document = forms.FileField(label=_("营业执照"), required=True,
                               help_text=_("JPEG、PNG 或 PDF，不超过 5 MB；加密保存，仅您本人和审核人员可见。"),
                               widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}),
                               error_messages={"required": _("请上传营业执照。")})


def add_service_errors(form: forms.Form, message_dict: dict) -> None:
    for field, messages in message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
