from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.portal.views.funds import MultipleFileField

from . import services
from .choices import CaseCategory


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("投诉类别"), choices=[("", "---------"), *CaseCategory.choices()])
    target = forms.CharField(label=_("投诉对象"), max_length=500,
                             help_text=_("IP 地址、域名或网址，例如 203.0.113.5、example.cn、https://example.cn/page"))
    occurred_at = forms.DateTimeField(label=_("发生时间（可选，北京时间）"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                      help_text=_("留空表示现在；我们按该时间查找当时使用该地址的服务器。"))
    description = forms.CharField(label=_("投诉说明"), max_length=services.MAX_TEXT,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label=_("证据文件（可选，JPEG、PNG、PDF 或纯文本，最多 5 个，每个不超过 5 MB）"),
                              required=False)
    reporter_name = forms.CharField(label=_("您的姓名或单位（可选）"), max_length=100, required=False)
    reporter_email = forms.CharField(label=_("联系邮箱"), max_length=254)
    reporter_phone = forms.CharField(label=_("联系电话（可选）"), max_length=32, required=False)


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("回复内容"), max_length=services.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("请说明您已采取的处理措施，可附上证明材料。"))
    files = MultipleFileField(label=_("附件（可选，JPEG、PNG、PDF 或纯文本，最多 5 个，每个不超过 5 MB）"),
                              required=False)
