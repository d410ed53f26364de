"""Console (/console/) for announcements, maintenance windows, incidents and SLA credits. Every change goes
through `services` / `sla`; a refusal is shown as a message and writes nothing."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, ReasonForm, action_page, client_ip, each_selected

from . import services, sla
from .choices import IncidentStatus, MaintenanceState
from .models import Announcement, Incident, IncidentUpdate, MaintenanceNotice, MaintenanceWindow, SlaCredit, SlaPolicy


def _each(model_admin, request, queryset, call, done):
    each_selected(model_admin, request, queryset, call, refused=services.StatusRefused, label=str,
                  done=lambda obj: f"{obj}: {done}")


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "published_from", "published_until", "created_by"]
    list_filter = ["level"]
    search_fields = ["title"]
    fields = ["title", "level", "body", "published_from", "published_until"]

    def save_model(self, request, obj, form, change):
        try:
            services.save_announcement(obj, actor=request.user, ip=client_ip(request))
        except services.StatusRefused as exc:
            raise PermissionDenied(str(exc)) from exc

    def has_delete_permission(self, request, obj=None):
        return False  # withdraw by setting an end: what was published stays on record


class ExtendForm(forms.Form):
    ends_at = forms.DateTimeField(label=gettext_lazy("新的结束时间（北京时间）"))
    reason = forms.CharField(label=gettext_lazy("延长原因（将告知客户）"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


class MaintenanceNoticeInline(ReadOnlyTabularInline):
    model = MaintenanceNotice
    fields = ["recipient", "kind", "ends_at", "notice", "created_at"]
    readonly_fields = fields


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["title", "region", "starts_at", "ends_at", "impact", "emergency", "state", "notices_sent"]
    list_filter = ["state", "impact", "emergency", "region"]
    search_fields = ["title"]
    filter_horizontal = ["nodes"]
    fields = ["title", "description", "region", "nodes", "starts_at", "ends_at", "impact", "emergency",
              "emergency_reason", "state", "published_at", "cancelled_at", "cancel_reason"]
    inlines = [MaintenanceNoticeInline]
    actions = ["publish", "extend", "cancel"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region").annotate(notices_sent=Count("notices"))

    @admin.display(description=gettext_lazy("已发通知"), ordering="notices_sent")
    def notices_sent(self, obj):
        return obj.notices_sent

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != MaintenanceState.DRAFT:
            return self.fields
        return ["state", "published_at", "cancelled_at", "cancel_reason"]

    def save_model(self, request, obj, form, change):
        try:
            services.save_window(obj, actor=request.user, ip=client_ip(request))
        except services.StatusRefused as exc:
            raise PermissionDenied(str(exc)) from exc

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.state == MaintenanceState.DRAFT)

    @admin.action(description=gettext_lazy("发布并通知受影响的客户"), permissions=["change"])
    def publish(self, request, queryset):
        _each(self, request, queryset,
              lambda w: services.publish_window(w, actor=request.user, ip=client_ip(request)),
              _("已发布，正在通知受影响的客户。"))

    @admin.action(description=gettext_lazy("延长维护（通知客户）"), permissions=["change"])
    def extend(self, request, queryset):
        form = ExtendForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "extend", _("延长维护"))
        _each(self, request, queryset,
              lambda w: services.extend_window(w, ends_at=form.cleaned_data["ends_at"], actor=request.user,
                                               reason=form.cleaned_data["reason"], ip=client_ip(request)),
              _("已延长，正在通知受影响的客户。"))
        return None

    @admin.action(description=gettext_lazy("取消维护（通知客户）"), permissions=["change"])
    def cancel(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "cancel", _("取消维护"))
        _each(self, request, queryset,
              lambda w: services.cancel_window(w, reason=form.cleaned_data["reason"], actor=request.user,
                                               ip=client_ip(request)),
              _("已取消，正在通知已收到维护通知的客户。"))
        return None


class IncidentForm(forms.ModelForm):
    message = forms.CharField(label=gettext_lazy("首条说明（显示在状态页上）"),
                              widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Incident
        fields = ["title", "region", "nodes", "status", "started_at"]


class UpdateForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=IncidentStatus.choices())
    message = forms.CharField(label=gettext_lazy("进展说明（显示在状态页上）"),
                              widget=forms.Textarea(attrs={"rows": 3}))


class IncidentUpdateInline(ReadOnlyTabularInline):
    model = IncidentUpdate
    fields = ["created_at", "status", "message", "created_by"]
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "region", "status", "started_at", "resolved_at"]
    list_filter = ["status", "region"]
    search_fields = ["title"]
    filter_horizontal = ["nodes"]
    inlines = [IncidentUpdateInline]
    actions = ["post_update", "propose_credits"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IncidentForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["title", "region", "nodes", "status", "started_at", "message"]
        return ["title", "region", "nodes", "status", "started_at", "resolved_at", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            services.open_incident(obj, message=form.cleaned_data["message"], actor=request.user,
                                   ip=client_ip(request))
        except services.StatusRefused as exc:
            raise PermissionDenied(str(exc)) from exc

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("发布故障进展"), permissions=["change"])
    def post_update(self, request, queryset):
        form = UpdateForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "post_update", _("发布故障进展"))
        _each(self, request, queryset,
              lambda i: services.post_update(i, status=form.cleaned_data["status"], actor=request.user,
                                             message=form.cleaned_data["message"], ip=client_ip(request)),
              _("进展已发布。"))
        return None

    def has_pay_credits_permission(self, request) -> bool:
        return sla.can_pay(request.user)

    @admin.action(description=gettext_lazy("计算 SLA 赔偿（协议第 8.5 条）"), permissions=["pay_credits"])
    def propose_credits(self, request, queryset):
        for incident in queryset:
            try:
                credits = sla.propose_credits(incident, actor=request.user, ip=client_ip(request))
            except services.StatusRefused as exc:
                self.message_user(request, f"{incident}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(incident)s：新增 %(n)s 条待审核的赔偿。") % {
                    "incident": incident, "n": len(credits)})


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["plan", "target_percent", "schedule"]


@admin.register(SlaCredit)
class SlaCreditAdmin(ReadOnlyAdmin):
    list_display = ["incident", "server", "customer", "month", "downtime_seconds", "availability",
                    "credit_percent", "month_fee_fen", "amount_fen", "state", "decided_by"]
    list_filter = ["state", "month"]
    search_fields = ["customer__email", "server__name", "incident__title"]
    list_select_related = ["incident", "server", "customer", "decided_by"]
    actions = ["pay", "reject"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request)  # actions only

    @admin.action(description=gettext_lazy("发放所选赔偿（赠送金）"), permissions=["change"])
    def pay(self, request, queryset):
        _each(self, request, queryset, lambda c: sla.pay_credit(c, actor=request.user, ip=client_ip(request)),
              _("已发放。"))

    @admin.action(description=gettext_lazy("驳回所选赔偿"), permissions=["change"])
    def reject(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "reject", _("驳回赔偿"))
        _each(self, request, queryset,
              lambda c: sla.reject_credit(c, reason=form.cleaned_data["reason"], actor=request.user,
                                          ip=client_ip(request)),
              _("已驳回。"))
        return None
