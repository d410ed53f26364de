import secrets

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wuji.core import money
from wuji.core.admin import LogsPersonalDataViews, ReadOnlyAdmin, ReasonForm, action_page
from wuji.core.forms import YuanField
from wuji.ledger import services as ledger

from . import contacts, services
from .choices import CaseState, ContactKind
from .contact_models import ContactFlag
from .models import User
from .security_models import LoginRecord, Profile, SecurityCase


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0


class ContactFlagForm(forms.Form):
    contact = forms.ChoiceField(label=_("失效的联系方式"), choices=ContactKind.choices())
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    days = forms.IntegerField(label=_("更正期限（天）"), min_value=1, max_value=contacts.MAX_FIX_DAYS,
                              initial=lambda: settings.WUJI_CONTACT_FIX_DAYS)


class GiftForm(forms.Form):
    amount = YuanField(label=_("金额（元）"))
    reason = forms.CharField(label=_("原因"), max_length=200)
    # One token per confirmation page: submitting the same page twice grants once.
    token = forms.CharField(widget=forms.HiddenInput, initial=lambda: secrets.token_hex(16), max_length=64)




@admin.register(User)
class UserAdmin(LogsPersonalDataViews, BaseUserAdmin):
    personal_data = "account_profile"
    ordering = ["id"]
    list_display = ["id", "email", "phone", "is_staff", "is_active", "locked_at", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_active", ("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "phone", "first_name", "last_name"]
    readonly_fields = ["phone", "locked_at", "last_login", "date_joined", "wallet"]
    inlines = [ProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "phone", "password")}),
        (_("钱包"), {"fields": ("wallet",)}),
        ("Profile", {"fields": ("first_name", "last_name", "language")}),
        ("Permissions", {"fields": ("is_active", "locked_at", "is_staff", "is_superuser", "groups",
                                    "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["flag_invalid_contact", "grant_gift"]

    @admin.display(description=_("余额"))
    def wallet(self, obj):
        """Cash, gift and frozen balances from the ledger, with a link to the customer's transactions."""
        if obj.pk is None:
            return "-"
        balances = ledger.balances(obj)
        url = reverse("admin:ledger_transaction_changelist") + f"?customer__id__exact={obj.pk}"
        return format_html(
            "{}：{} · {}：{} · {}：{} · <a href=\"{}\">{}</a>",
            _("现金余额"), money.format_cny(balances["cash"]), _("赠送金"), money.format_cny(balances["gift"]),
            _("冻结金额"), money.format_cny(balances["frozen"]), url, _("收支明细"),
        )

    def has_flag_contact_permission(self, request) -> bool:
        """Flagging makes a ContactFlag: whoever may add one (support, compliance), not whoever may edit users."""
        return request.user.has_perm("accounts.add_contactflag")

    @admin.action(description=_("标记联系方式失效并要求更正（4.5.1）"), permissions=["flag_contact"])
    def flag_invalid_contact(self, request, queryset):
        form = ContactFlagForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "flag_invalid_contact", _("标记联系方式失效"))
        done = 0
        for user in queryset:
            try:
                contacts.flag_invalid_contact(user, form.cleaned_data["contact"], request.user,
                                              form.cleaned_data["reason"], form.cleaned_data["days"],
                                              ip=request.META.get("REMOTE_ADDR"))
            except ValidationError as exc:
                self.message_user(request, f"{user}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已向 %(n)d 个账户发送更正通知。") % {"n": done})
        return None

    def has_grant_gift_permission(self, request) -> bool:
        return request.user.has_perm("ledger.grant_gift_credit")

    @admin.action(description=_("发放赠送金"), permissions=["grant_gift"])
    def grant_gift(self, request, queryset):
        from wuji.billing import gifts

        form = GiftForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "grant_gift", _("发放赠送金"))
        done = 0
        for user in queryset.filter(is_staff=False):
            try:
                gifts.grant_gift(customer=user, amount_fen=form.cleaned_data["amount"],
                                 reason=form.cleaned_data["reason"], actor=request.user,
                                 key=f"console:{form.cleaned_data['token']}:{user.pk}",
                                 ip=request.META.get("REMOTE_ADDR"))
            except gifts.GiftRefused as exc:
                self.message_user(request, f"{user}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已向 %(n)d 个账户发放赠送金。") % {"n": done})
        return None


@admin.register(Profile)
class ProfileAdmin(LogsPersonalDataViews, admin.ModelAdmin):
    personal_data = "real_name_profile"

    def personal_data_subject(self, obj):
        return obj.user

    list_display = ["user", "real_name", "nationality", "province", "city", "updated_at"]
    search_fields = ["user__email", "real_name"]
    raw_id_fields = ["user"]


@admin.register(LoginRecord)
class LoginRecordAdmin(LogsPersonalDataViews, ReadOnlyAdmin):
    personal_data = "login_record"

    def personal_data_subject(self, obj):
        return obj.user

    list_display = ["created_at", "user", "identifier", "event", "result", "ip", "port", "detail"]
    list_filter = ["event", "result"]
    search_fields = ["identifier", "user__email", "ip"]
    date_hierarchy = "created_at"


class UnlockForm(forms.Form):
    resolution = forms.CharField(label=_("处理说明"), widget=forms.Textarea(attrs={"rows": 4}))


@admin.register(SecurityCase)
class SecurityCaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "state", "reported_at", "reported_ip", "sessions_ended", "keys_revoked",
                    "resolved_at", "resolved_by"]
    list_filter = ["state"]
    search_fields = ["user__email"]
    actions = ["unlock"]

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_securitycase")

    @admin.action(description=_("审核完毕，解锁账户"), permissions=["unlock"])
    def unlock(self, request, queryset):
        cases = list(queryset.filter(state=CaseState.OPEN))
        if "apply" in request.POST:
            form = UnlockForm(request.POST)
            if form.is_valid():
                for case in cases:
                    try:
                        services.unlock_account(case=case, staff=request.user, ip=request.META.get("REMOTE_ADDR"),
                                                resolution=form.cleaned_data["resolution"])
                    except services.AccountError as exc:
                        self.message_user(request, f"#{case.pk}: {exc}", messages.ERROR)
                    else:
                        self.message_user(request, _("安全事件 #%(pk)d 已处理，账户已解锁。") % {"pk": case.pk})
                return redirect(request.get_full_path())
        else:
            form = UnlockForm()
        return render(request, "admin/accounts/unlock.html", {
            **self.admin_site.each_context(request), "cases": cases, "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta,
            "title": _("解锁账户")})


@admin.register(ContactFlag)
class ContactFlagAdmin(ReadOnlyAdmin):
    """Contact-validity flags (4.5.1): flagged from the user list; lifted here, or by the user's fix."""

    list_display = ["id", "user", "contact", "value_masked", "reason", "flagged_by", "created_at", "deadline",
                    "restricted_at", "resolved_at", "resolution"]
    list_filter = ["contact", ("resolved_at", admin.EmptyFieldListFilter),
                   ("restricted_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "reason"]
    list_select_related = ["user", "flagged_by"]
    actions = ["lift_selected", "restrict_overdue_now"]

    def has_lift_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_contactflag")

    @admin.action(description=_("解除所选标记或限制（需填写原因）"), permissions=["lift"])
    def lift_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_page(self, request, queryset, form, "lift_selected", _("解除联系方式失效标记"))
        for flag in queryset.filter(resolved_at__isnull=True):
            try:
                contacts.lift_contact_flag(flag, request.user, form.cleaned_data["reason"],
                                           ip=request.META.get("REMOTE_ADDR"))
            except ValidationError as exc:
                self.message_user(request, f"#{flag.pk}: {' '.join(exc.messages)}", messages.ERROR)
        return None

    @admin.action(description=_("立即执行逾期限制检查"), permissions=["lift"])
    def restrict_overdue_now(self, request, queryset):
        self.message_user(request, _("已限制 %(n)d 个账户。") % {"n": contacts.restrict_overdue()})

from . import admin_restrictions  # noqa: E402,F401  (restrictions of account functions: 4.5.2.2)
