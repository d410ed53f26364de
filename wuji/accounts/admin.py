from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from . import services
from .choices import CaseState
from .models import User
from .security_models import LoginRecord, Profile, SecurityCase


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "phone", "is_staff", "is_active", "locked_at", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_active", ("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "phone", "first_name", "last_name"]
    readonly_fields = ["phone", "locked_at", "last_login", "date_joined"]
    inlines = [ProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "phone", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "language")}),
        ("Permissions", {"fields": ("is_active", "locked_at", "is_staff", "is_superuser", "groups",
                                    "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "real_name", "nationality", "province", "city", "updated_at"]
    search_fields = ["user__email", "real_name"]
    raw_id_fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoginRecord)
class LoginRecordAdmin(ReadOnlyAdmin):
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
