"""Console for abuse cases: the queue by status with filters, and one action per measure, each with a reason
form. Every action calls `abuse.services`; partner feeds get their token here, shown once."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.accounts.choices import RestrictedFunction
from wuji.billing.choices import FreezeOutcome
from wuji.core import roles
from wuji.core.admin import (
    ReadOnlyStackedInline,
    ReadOnlyTabularInline,
    ReasonForm,
    action_page,
    client_ip,
    each_selected,
)
from wuji.core.money import MoneyError, yuan_to_fen

from . import services
from .choices import ActionKind
from .models import Case, CaseAction, CaseMessage, Complaint, Evidence, PartnerFeed


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class MessageForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("消息内容"), max_length=services.MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 4}))
    visible_to_owner = forms.BooleanField(label=gettext_lazy("客户可见"), required=False, initial=True)


class NotifyForm(ReasonForm):
    text = forms.CharField(label=gettext_lazy("给客户的说明（留空则使用原因）"), max_length=services.MAX_TEXT,
                           required=False, widget=forms.Textarea(attrs={"rows": 4}))
    hours = forms.IntegerField(label=gettext_lazy("处理期限（小时，留空按类别默认）"), min_value=1, required=False)


class BlackholeForm(ReasonForm):
    hours = forms.IntegerField(label=gettext_lazy("解绑时长（小时，留空按默认）"), min_value=1, required=False)


class RestrictForm(ReasonForm):
    functions = forms.MultipleChoiceField(label=gettext_lazy("限制的功能"), choices=RestrictedFunction.choices(),
                                          widget=forms.CheckboxSelectMultiple)


class FreezeForm(ReasonForm):
    amount = forms.CharField(label=gettext_lazy("冻结金额（元，留空为全部现金余额）"), max_length=16, required=False)
    outcome = forms.ChoiceField(label=gettext_lazy("逾期未申诉或申诉未通过时"), choices=FreezeOutcome.choices())

    def clean_amount(self) -> int | None:
        value = (self.cleaned_data.get("amount") or "").strip()
        if not value:
            return None
        try:
            return yuan_to_fen(value)
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。")) from None


# Measures that belong to another capability than handling abuse: shown only to staff the owning service allows.
MEASURE_PERMISSION = {ActionKind.FREEZE: "freeze_funds", ActionKind.RESTRICT: "restrict_accounts"}

FORMS = {ActionKind.NOTIFY: NotifyForm, ActionKind.BLACKHOLE: BlackholeForm, ActionKind.RESTRICT: RestrictForm,
         ActionKind.FREEZE: FreezeForm}


def _options(kind: str, data: dict) -> dict:
    if kind == ActionKind.NOTIFY:
        return {"text": data["text"], "hours": data["hours"]}
    if kind == ActionKind.BLACKHOLE:
        return {"hours": data["hours"]}
    if kind == ActionKind.RESTRICT:
        return {"functions": data["functions"]}
    if kind == ActionKind.FREEZE:
        return {"amount_fen": data["amount"], "outcome": data["outcome"]}
    return {}


class ComplaintInline(ReadOnlyStackedInline):
    model = Complaint
    readonly_fields = ["reporter_name", "reporter_email", "reporter_phone", "description", "submitted_ip", "partner",
                       "submitted_at"]


class EvidenceInline(ReadOnlyTabularInline):
    model = Evidence
    fields = ["kind", "download", "content_type", "size", "samples", "added_at"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("文件"))
    def download(self, row):
        if not row.file:
            return row.name
        return format_html('<a href="{}">{}</a>', reverse("abuse:file", args=[row.pk]), row.name)


class CaseMessageInline(ReadOnlyTabularInline):
    model = CaseMessage
    fields = ["created_at", "author", "from_owner", "visible_to_owner", "text"]
    readonly_fields = fields


class CaseActionInline(ReadOnlyTabularInline):
    model = CaseAction
    fields = ["created_at", "kind", "reason", "staff", "instruction", "result"]
    readonly_fields = fields


def _measure(kind: str):
    def run(model_admin, request, queryset):
        form_class = FORMS.get(kind, ReasonForm)
        form = form_class(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(model_admin, request, queryset, form, f"act_{kind}", ActionKind.label(kind))
        model_admin.each(request, queryset, lambda case: services.apply_action(
            case, kind=kind, staff=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request),
            **_options(kind, form.cleaned_data)), _("案件 %(n)s：已执行“%(a)s”。") % {"n": "%(n)s",
                                                                                  "a": ActionKind.label(kind)})
        return None

    run.__name__ = f"act_{kind}"
    permission = MEASURE_PERMISSION.get(kind, "change")
    return admin.action(description=ActionKind.label(kind), permissions=[permission])(run)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "category", "source", "target", "owner", "server", "owner_deadline",
                    "created_at"]
    list_filter = ["status", "category", "source", "target_kind", "rule"]
    search_fields = ["number", "target", "owner__email", "complaint__reporter_email"]
    list_select_related = ["owner", "server"]
    readonly_fields = [f.name for f in Case._meta.fields]
    inlines = [ComplaintInline, EvidenceInline, CaseMessageInline, CaseActionInline]
    actions = ["triage", "post_message", *(_measure(kind) for kind in ActionKind.values()), "close", "reject"]

    def has_add_permission(self, request):
        return False  # cases come from complaints, partner feeds and rules

    def has_freeze_funds_permission(self, request) -> bool:
        return self.has_change_permission(request) and roles.can(request.user, roles.FREEZE_FUNDS)

    def has_restrict_accounts_permission(self, request) -> bool:
        return self.has_change_permission(request) and roles.can(request.user, roles.RESTRICT_ACCOUNTS)

    def has_delete_permission(self, request, obj=None):
        return False

    def each(self, request, queryset, call, done_message):
        each_selected(self, request, queryset, call, refused=services.CaseRefused, label=lambda case: case.number,
                      done=lambda case: done_message % {"n": case.number})

    @admin.action(description=gettext_lazy("分拣（受理）"), permissions=["change"])
    def triage(self, request, queryset):
        self.each(request, queryset, lambda case: services.triage(case, staff=request.user, ip=client_ip(request)),
                  _("案件 %(n)s 已分拣。"))

    @admin.action(description=gettext_lazy("发送消息或内部备注"), permissions=["change"])
    def post_message(self, request, queryset):
        form = MessageForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "post_message", _("发送消息"))
        self.each(request, queryset, lambda case: services.post_message(
            case, staff=request.user, text=form.cleaned_data["text"],
            visible_to_owner=form.cleaned_data["visible_to_owner"], ip=client_ip(request)),
            _("案件 %(n)s：消息已保存。"))
        return None

    def _close(self, request, queryset, *, reject: bool):
        form = NoteForm(request.POST if "apply" in request.POST else None)
        action = "reject" if reject else "close"
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, action, _("驳回") if reject else _("结案"))
        self.each(request, queryset, lambda case: services.close_case(
            case, staff=request.user, note=form.cleaned_data["note"], reject=reject, ip=client_ip(request)),
            _("案件 %(n)s 已处理。"))
        return None

    @admin.action(description=gettext_lazy("结案（需填写说明）"), permissions=["change"])
    def close(self, request, queryset):
        return self._close(request, queryset, reject=False)

    @admin.action(description=gettext_lazy("驳回投诉（需填写说明）"), permissions=["change"])
    def reject(self, request, queryset):
        return self._close(request, queryset, reject=True)


class PartnerFeedForm(forms.ModelForm):
    class Meta:
        model = PartnerFeed
        fields = ["name", "is_active"]


@admin.register(PartnerFeed)
class PartnerFeedAdmin(admin.ModelAdmin):
    form = PartnerFeedForm
    list_display = ["name", "is_active", "created_at", "last_used_at"]
    readonly_fields = ["created_by", "created_at", "last_used_at"]
    actions = ["new_token"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "is_active"])
            return
        self._show(request, obj, services.issue_partner_token(obj, staff=request.user, ip=client_ip(request)))

    def _show(self, request, feed, token):
        self.message_user(request, _("%(name)s 的令牌（只显示这一次，请妥善交给合作方）：%(token)s") % {
            "name": feed.name, "token": token}, messages.WARNING)

    @admin.action(description=gettext_lazy("重新签发令牌"), permissions=["change"])
    def new_token(self, request, queryset):
        for feed in queryset:
            self._show(request, feed, services.issue_partner_token(feed, staff=request.user, ip=client_ip(request)))
