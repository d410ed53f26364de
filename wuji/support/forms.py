"""Ticket forms for the portal and the console; they shape input only, the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wuji.core.uploads import MultipleFileField

from . import services
from .choices import TicketCategory, TicketPriority, TicketStatus

FILES_HELP = _("可选，JPEG、PNG 或 PDF，最多 5 个，每个不超过 10 MB。")


def add_refusal(form: forms.Form, exc: services.TicketRefused) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=TicketCategory.choices())
    priority = forms.ChoiceField(label=_("优先级"), initial=TicketPriority.NORMAL,
                                 choices=[c for c in TicketPriority.choices() if c[0] in TicketPriority.CUSTOMER],
                                 help_text=_("“紧急”优先级由工作人员根据情况设置。"))
    server = forms.ModelChoiceField(label=_("相关服务器（可选）"), queryset=None, required=False,
                                    empty_label=_("不涉及具体服务器"))
    subject = forms.CharField(label=_("标题"), max_length=services.MAX_SUBJECT)
    body = forms.CharField(label=_("问题描述"), max_length=services.MAX_BODY, widget=forms.Textarea(attrs={"rows": 8}))
    files = MultipleFileField(label=_("附件"), required=False, help_text=FILES_HELP)

    def __init__(self, *args, servers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["server"].queryset = servers


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("回复内容"), max_length=services.MAX_BODY, widget=forms.Textarea(attrs={"rows": 5}))
    files = MultipleFileField(label=_("附件"), required=False, help_text=FILES_HELP)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("满意度"), coerce=int, widget=forms.RadioSelect,
                                    choices=[(n, str(n)) for n in range(5, 0, -1)])
    comment = forms.CharField(label=_("评价（可选）"), max_length=services.MAX_COMMENT, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


class StaffReplyForm(forms.Form):
    """The console's ticket page: a reply or an internal note, and the ticket's status, priority and category."""

    body = forms.CharField(label=_("回复内容"), max_length=services.MAX_BODY, required=False,
                           widget=forms.Textarea(attrs={"rows": 6}))
    internal = forms.BooleanField(label=_("内部备注（客户不可见）"), required=False)
    files = MultipleFileField(label=_("附件"), required=False, help_text=FILES_HELP)
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("回复后等待客户回复")),
                                        *[c for c in TicketStatus.choices() if c[0] in TicketStatus.STAFF_SETTABLE]])
    priority = forms.ChoiceField(label=_("优先级"), choices=TicketPriority.choices())
    category = forms.ChoiceField(label=_("类别"), choices=TicketCategory.choices())
