"""Console for restrictions of account functions (4.5.2.2): "restrict functions" on users, and the restriction
list with "lift". Both call `wuji.accounts.restrictions`; only staff it allows (`can_manage`) see the actions."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import ReadOnlyAdmin, ReasonForm, action_page, client_ip

from . import restrictions
from .admin import UserAdmin
from .choices import RestrictedFunction
from .restriction_models import AccountRestriction


class RestrictForm(forms.Form):
    functions = forms.MultipleChoiceField(label=gettext_lazy("限制的功能"), choices=RestrictedFunction.choices(),
                                          widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=gettext_lazy("原因（将告知用户）"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


@admin.action(description=gettext_lazy("限制账户功能（协议第 4.5.2.2 条）"), permissions=["restrict_functions"])
def restrict_functions(model_admin, request, queryset):
    form = RestrictForm(request.POST if "apply" in request.POST else None)
    if not (form.is_bound and form.is_valid()):
        return action_page(model_admin, request, queryset, form, "restrict_functions", _("限制账户功能"))
    for user in queryset:
        try:
            created = restrictions.restrict(user=user, functions=form.cleaned_data["functions"],
                                            reason=form.cleaned_data["reason"], actor=request.user,
                                            ip=client_ip(request))
        except restrictions.RestrictionError as exc:
            model_admin.message_user(request, f"{user}: {exc.message}", messages.ERROR)
        else:
            model_admin.message_user(request, _("已限制 %(user)s 的功能：%(functions)s。") % {
                "user": user, "functions": "、".join(str(RestrictedFunction.label(r.function)) for r in created)})
    return None


def has_restrict_functions_permission(model_admin, request) -> bool:
    return restrictions.can_manage(request.user)


UserAdmin.actions = [*UserAdmin.actions, restrict_functions]
UserAdmin.has_restrict_functions_permission = has_restrict_functions_permission


@admin.register(AccountRestriction)
class AccountRestrictionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "function", "reason", "imposed_by", "imposed_at", "lifted_by", "lifted_at",
                    "lift_reason"]
    list_filter = ["function", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "reason"]
    list_select_related = ["user", "imposed_by", "lifted_by"]
    actions = ["lift_selected"]

    def has_lift_permission(self, request) -> bool:
        return restrictions.can_manage(request.user)

    @admin.action(description=gettext_lazy("解除所选限制（需填写原因）"), permissions=["lift"])
    def lift_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "lift_selected", _("解除账户功能限制"))
        for restriction in queryset.filter(lifted_at__isnull=True):
            try:
                restrictions.lift(restriction=restriction, actor=request.user, reason=form.cleaned_data["reason"],
                                  ip=client_ip(request))
            except restrictions.RestrictionError as exc:
                self.message_user(request, f"#{restriction.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("限制 #%(pk)s 已解除。") % {"pk": restriction.pk})
        return None
