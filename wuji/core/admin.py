from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy

from .models import ScheduledRun


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def action_page(model_admin, request, queryset, form, action: str, title):
    """The confirmation page of a console action that needs input (a reason, an amount, a file); the action
    runs on its POST. One template for every app (multipart when the form has a file field)."""
    return TemplateResponse(request, "admin/action_form.html", {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "title": title,
        "form": form, "queryset": queryset, "action": action,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


def each_selected(model_admin, request, queryset, call, *, refused, label, done) -> None:
    """Run `call` on each selected object. A refusal (an exception of the `refused` type(s), with a `message`)
    is shown against that object (`label(obj)`) and the others still run; success shows `done(obj)`."""
    for obj in queryset:
        try:
            call(obj)
        except refused as exc:
            model_admin.message_user(request, f"{label(obj)}: {getattr(exc, 'message', None) or exc}",
                                     messages.ERROR)
        else:
            model_admin.message_user(request, done(obj))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class ReadOnlyAdmin(admin.ModelAdmin):
    """A console list that staff read but never edit: the rows are written by services (the ledger, logs,
    records of what happened), so add, change and delete are refused for everyone."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "enqueued_at", "task_result_id"]
    list_filter = ["job"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
