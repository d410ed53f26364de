"""Console for fund freezes (5.4, 5.4.7): the freeze action on customers, and the Freeze admin with uphold,
reject, lift and refund-to-source actions. Every action calls `billing.freezes`; the money is the ledger's."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.accounts.admin import UserAdmin
from wuji.core.admin import ReasonForm, action_page, client_ip, each_selected
from wuji.core.money import MoneyError, yuan_to_fen

from . import freezes
from .choices import FreezeOutcome, FreezeReason, FreezeState
from .models import Appeal, Freeze, FreezeFile


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return super().clean(data, initial)


class FreezeForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("冻结金额（元，留空为全部现金余额）"), max_length=16, required=False)
    reason = forms.ChoiceField(label=gettext_lazy("冻结原因（协议第 5.4 条）"), choices=FreezeReason.choices())
    note = forms.CharField(label=gettext_lazy("给客户的说明"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(label=gettext_lazy("冻结依据（内部，不向客户展示）"),
                               widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=gettext_lazy("依据材料（JPEG、PNG 或 PDF）"), required=False,
                              widget=MultipleFileInput(attrs={"multiple": True}))
    outcome = forms.ChoiceField(label=gettext_lazy("逾期未申诉或申诉未通过时"), choices=FreezeOutcome.choices())

    def clean_amount(self) -> int | None:
        value = (self.cleaned_data.get("amount") or "").strip()
        if not value:
            return None
        try:
            return yuan_to_fen(value)
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额（元），最多两位小数。")) from None



class RejectForm(ReasonForm):
    outcome = forms.ChoiceField(label=gettext_lazy("处理方式"), required=False,
                                choices=[("", gettext_lazy("按冻结时选择的处理方式")), *FreezeOutcome.choices()])


@admin.action(description=gettext_lazy("冻结资金（协议第 5.4 条）"), permissions=["freeze"])
def freeze_funds(model_admin, request, queryset):
    form = FreezeForm(request.POST if "apply" in request.POST else None,
                      request.FILES if "apply" in request.POST else None)
    if not (form.is_bound and form.is_valid()):
        return action_page(model_admin, request, queryset, form, "freeze_funds", _("冻结资金"))
    data = form.cleaned_data
    for customer in queryset:
        try:
            uploads = [freezes.upload_from(f) for f in request.FILES.getlist("files")]
            freeze = freezes.freeze_funds(customer=customer, staff=request.user, reason=data["reason"],
                                          outcome=data["outcome"], amount_fen=data["amount"], note=data["note"],
                                          evidence=data["evidence"], files=uploads, ip=client_ip(request))
        except freezes.FreezeRefused as exc:
            model_admin.message_user(request, f"{customer}: {exc.message}", messages.ERROR)
        else:
            model_admin.message_user(request, _("已冻结 %(c)s 的资金 #%(pk)s。") % {"c": customer, "pk": freeze.pk})
    return None


def has_freeze_permission(model_admin, request) -> bool:
    """Shown to whoever the service lets freeze (finance, compliance), not to whoever may edit users."""
    return freezes.can_manage(request.user)


UserAdmin.actions = [*UserAdmin.actions, freeze_funds]
UserAdmin.has_freeze_permission = has_freeze_permission


class AppealInline(admin.StackedInline):
    model = Appeal
    extra = 0
    can_delete = False
    readonly_fields = ["text", "status", "submitted_at", "decided_at", "decided_by", "decision_reason"]

    def has_add_permission(self, request, obj=None):
        return False


class FreezeFileInline(admin.TabularInline):
    model = FreezeFile
    extra = 0
    can_delete = False
    fields = ["kind", "name", "content_type", "size", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Freeze)
class FreezeAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "amount_fen", "held_fen", "reason", "state", "outcome", "appeal_deadline",
                    "created_by", "created_at"]
    list_filter = ["state", "reason", "outcome"]
    search_fields = ["customer__email"]
    list_select_related = ["customer", "created_by"]
    readonly_fields = [f.name for f in Freeze._meta.fields]
    inlines = [AppealInline, FreezeFileInline]
    actions = ["uphold_appeal", "reject_appeal", "lift", "refund_to_source"]

    def has_add_permission(self, request):
        return False  # freezes are made with the action on customers, which moves the money

    def has_delete_permission(self, request, obj=None):
        return False

    def _each(self, request, queryset, call, done_message):
        each_selected(self, request, queryset, call, refused=freezes.FreezeRefused,
                      label=lambda freeze: f"#{freeze.pk}", done=lambda freeze: done_message % {"pk": freeze.pk})

    @admin.action(description=gettext_lazy("申诉通过，立即解冻"), permissions=["change"])
    def uphold_appeal(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "uphold_appeal", _("申诉通过"))
        self._each(request, queryset.filter(state=FreezeState.APPEALED), lambda f: freezes.uphold_appeal(
            freeze=f, staff=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)),
            _("冻结 #%(pk)s 已解冻。"))
        return None

    @admin.action(description=gettext_lazy("驳回申诉（需填写原因）"), permissions=["change"])
    def reject_appeal(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "reject_appeal", _("驳回申诉"))
        self._each(request, queryset.filter(state=FreezeState.APPEALED), lambda f: freezes.reject_appeal(
            freeze=f, staff=request.user, reason=form.cleaned_data["reason"],
            outcome=form.cleaned_data["outcome"] or None, ip=client_ip(request)), _("冻结 #%(pk)s 的申诉已驳回。"))
        return None

    @admin.action(description=gettext_lazy("解除冻结（需填写原因）"), permissions=["change"])
    def lift(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "lift", _("解除冻结"))
        self._each(request, queryset, lambda f: freezes.lift_freeze(
            freeze=f, staff=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)),
            _("冻结 #%(pk)s 已解冻。"))
        return None

    @admin.action(description=gettext_lazy("长期冻结资金原路退回（需填写原因）"), permissions=["change"])
    def refund_to_source(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "refund_to_source", _("原路退回"))
        self._each(request, queryset, lambda f: freezes.refund_long_term(
            freeze=f, staff=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)),
            _("冻结 #%(pk)s 的资金正在原路退回。"))
        return None
