"""Console for tickets: each staff member sees the queue of their roles (superusers: all); a ticket's page shows
the whole thread (internal notes included) and takes a reply or internal note, status, priority and category.
Every change calls `support.services`."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import client_ip

from . import services
from .forms import StaffReplyForm
from .models import Ticket, TicketAttachment
from .views import attachment_response


class AssigneeFilter(admin.SimpleListFilter):
    title = gettext_lazy("处理人")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [("me", _("分配给我")), ("none", _("未分配"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "customer", "category", "priority", "status", "assignee", "created_at",
                    "first_response", "updated_at"]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "category", "priority", AssigneeFilter]
    search_fields = ["subject", "customer__email"]
    ordering = ["-id"]
    actions = ["assign_to_me"]

    def get_queryset(self, request):
        return services.queue_for(request.user)

    def has_module_permission(self, request):
        return services.is_support_staff(request.user)

    def has_view_permission(self, request, obj=None):
        return services.can_handle(request.user, obj) if obj else services.is_support_staff(request.user)

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return False  # customers open tickets

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("首次响应用时"))
    def first_response(self, ticket: Ticket) -> str:
        seconds = ticket.first_response_seconds
        if seconds is None:
            return "—"
        hours, rest = divmod(seconds, 3600)
        return f"{hours}:{rest // 60:02d}"

    @admin.action(description=gettext_lazy("分配给我"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        for ticket in queryset:
            try:
                services.assign_to_self(ticket=ticket, staff=request.user, ip=client_ip(request))
            except services.TicketRefused as exc:
                self.message_user(request, f"#{ticket.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("工单 #%(pk)s 已分配给您。") % {"pk": ticket.pk})

    def get_urls(self):
        return [path("<int:pk>/attachments/<int:attachment_pk>/", self.admin_site.admin_view(self.attachment_view),
                     name="support_ticket_attachment"), *super().get_urls()]

    def attachment_view(self, request, pk: int, attachment_pk: int):
        ticket = get_object_or_404(self.get_queryset(request), pk=pk)
        return attachment_response(get_object_or_404(TicketAttachment, ticket=ticket, pk=attachment_pk))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The ticket's staff page, in place of the model form: tickets change only through the services."""
        ticket = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        form = StaffReplyForm(initial={"priority": ticket.priority, "category": ticket.category})
        if request.method == "POST":
            if "assign" in request.POST:
                self.assign_to_me(request, self.get_queryset(request).filter(pk=ticket.pk))
                return redirect(request.path)
            form = StaffReplyForm(request.POST, request.FILES)
            if form.is_valid() and self._handle(request, ticket, form):
                still_mine = self.get_queryset(request).filter(pk=ticket.pk).exists()  # the category may move it
                return redirect(request.path if still_mine else reverse("admin:support_ticket_changelist"))
        return TemplateResponse(request, "admin/support/ticket_handle.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "ticket": ticket, "form": form,
            "title": _("工单 #%(pk)s") % {"pk": ticket.pk}, "thread": ticket.messages.select_related(
                "author").prefetch_related("attachments"),
        })

    def _handle(self, request, ticket: Ticket, form: forms.Form) -> bool:
        """Apply the form: the reply or note first, then status, priority and category. False on a refusal."""
        data, ip, staff = form.cleaned_data, client_ip(request), request.user
        status = data["status"] or None
        try:
            if data["body"].strip():
                uploads = [services.upload_from(f) for f in data["files"]]
                services.staff_reply(ticket=ticket, staff=staff, body=data["body"], internal=data["internal"],
                                     files=uploads, status=None if data["internal"] else status, ip=ip)
                if data["internal"] and status:
                    services.change_status(ticket=ticket, staff=staff, status=status, ip=ip)
            elif data["files"]:
                raise services.TicketRefused(_("请填写回复内容。"), field="body", code="invalid")
            elif status:
                services.change_status(ticket=ticket, staff=staff, status=status, ip=ip)
            services.change_priority(ticket=ticket, staff=staff, priority=data["priority"], ip=ip)
            services.change_category(ticket=ticket, staff=staff, category=data["category"], ip=ip)
        except services.TicketRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return False
        self.message_user(request, _("工单 #%(pk)s 已更新。") % {"pk": ticket.pk})
        return True
