from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
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


class LogsPersonalDataViews:
    """For console pages that show one person's data (contact details, real name, login history): every time
    staff open one, a line goes to the staff data-access log first — who looked at whose data, when, from where
    (5.2, PIPL art. 51). `personal_data` names what the page shows; `personal_data_subject` finds the person."""

    personal_data = ""

    def personal_data_subject(self, obj):
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            subject = self.personal_data_subject(obj) if obj is not None else None
            if subject is not None and subject.pk != request.user.pk and self.has_view_or_change_permission(
                    request, obj):
                from wuji.audit import services as audit

                audit.record_data_access(staff=request.user, subject=subject, field=self.personal_data,
                                         reason=_("在控制台查看"), target=obj, ip=client_ip(request))
        return super().change_view(request, object_id, form_url, extra_context)


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


class _ReadOnlyInline:
    """Rows that record what happened (postings, deliveries, case history), shown under their parent: never
    added, edited or deleted in the console, only written by the services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(_ReadOnlyInline, admin.TabularInline):
    pass


class ReadOnlyStackedInline(_ReadOnlyInline, admin.StackedInline):
    pass


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "enqueued_at", "task_result_id"]
    list_filter = ["job"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
