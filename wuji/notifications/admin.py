from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.core.admin import ReadOnlyTabularInline

from . import proof
from .models import Delivery, DeliveryAttempt, MarketingConsent, Notice, WechatBinding


class DeliveryInline(ReadOnlyTabularInline):
    model = Delivery
    fields = ["channel", "address", "status", "attempts", "detail", "next_attempt_at", "updated_at"]
    readonly_fields = fields


class ProofForm(forms.Form):
    event = forms.ChoiceField(label=gettext_lazy("事件"))
    text = forms.CharField(label=gettext_lazy("对象（通知中的文字，如服务器名称）"), required=False)
    recipient = forms.CharField(label=gettext_lazy("接收人邮箱"), required=False)
    since = forms.DateField(label=gettext_lazy("起始日期"), required=False)
    until = forms.DateField(label=gettext_lazy("截止日期"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = proof.event_choices()


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Proof of notice: who was told what, when, on which channels, with what result."""

    list_display = ["id", "recipient", "event", "kind", "subject", "mandatory", "created_at", "read_at"]
    list_filter = ["kind", "mandatory", "event"]
    search_fields = ["recipient__email", "subject"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "event", "kind", "subject", "body", "mandatory", "created_at", "read_at"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("proof/", self.admin_site.admin_view(self.proof_view), name="notifications_notice_proof"),
                *super().get_urls()]

    def proof_view(self, request):
        """Who was notified of one event (or object): every delivery attempt, on screen or as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ProofForm(request.GET or None)
        table = []
        if form.is_valid():
            table = proof.rows(proof.notices_for(**form.cleaned_data))
            if request.GET.get("format") == "csv":
                response = HttpResponse(proof.as_csv(table), content_type="text/csv; charset=utf-8")
                response["Content-Disposition"] = f'attachment; filename="proof-{form.cleaned_data["event"]}.csv"'
                return response
        return TemplateResponse(request, "admin/notifications/proof.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": _("通知送达证明"),
            "form": form, "table": table, "searched": form.is_bound})


class RecordAdmin(admin.ModelAdmin):
    """Records kept as proof: staff read them, nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(RecordAdmin):
    """Every try to deliver a notice, as the transport answered it."""

    list_display = ["id", "delivery", "channel", "address", "attempted_at", "result", "detail"]
    list_filter = ["channel", "result"]
    search_fields = ["delivery__notice__recipient__email", "delivery__notice__event"]
    list_select_related = ["delivery"]


@admin.register(MarketingConsent)
class MarketingConsentAdmin(RecordAdmin):
    """Marketing consents and withdrawals: the proof of what each user agreed to, and when."""

    list_display = ["id", "user", "granted", "recorded_at", "channel", "ip", "text_version"]
    list_filter = ["granted", "channel", "text_version"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(WechatBinding)
class WechatBindingAdmin(admin.ModelAdmin):
    list_display = ["user", "openid", "bound_at"]
    search_fields = ["user__email", "openid"]
    readonly_fields = ["bound_at"]
    raw_id_fields = ["user"]
