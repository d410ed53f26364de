"""allauth adapters: mainland mobile numbers as a sign-in identifier, brute-force limits with a clear
message and a login record, locked accounts refused, and mail sent after commit by a task."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import LoginEvent, LoginResult

RATE_LIMITED_MESSAGE = gettext_lazy(
    "登录失败次数过多，账户或 IP 已被暂时限制登录，请 15 分钟后再试，或通过“忘记密码”找回。")
LOCKED_MESSAGE = gettext_lazy("该账户已因报告未授权使用而锁定，工作人员审核后会为您解锁；如有疑问请联系客服。")


class MainlandPhoneField(PhoneField):
    """A mainland mobile number in any usual form (138 0013 8000, +86…, 0086…), cleaned to +86…."""

    default_validators = []

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [])
        kwargs.setdefault("label", gettext_lazy("手机号码"))
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "tel", "type": "tel",
                                                           "placeholder": gettext_lazy("手机号码")}))
        super().__init__(*args, **kwargs)


def _identifier(credentials: dict) -> str:
    return str(credentials.get("email") or credentials.get("phone") or credentials.get("username") or "")


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": RATE_LIMITED_MESSAGE,
        "email_password_mismatch": gettext_lazy("邮箱/手机号或密码不正确（密码区分大小写）。"),
        "phone_password_mismatch": gettext_lazy("邮箱/手机号或密码不正确（密码区分大小写）。"),
        "username_password_mismatch": gettext_lazy("邮箱/手机号或密码不正确（密码区分大小写）。"),
    }

    # Registration stays on the portal's own page (agreement acceptance, optional phone code).
    def is_open_for_signup(self, request):
        return False

    # --- phone numbers --------------------------------------------------------------------------------
    def phone_form_field(self, **kwargs):
        return MainlandPhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        from .phone import normalise_mainland_mobile

        try:
            return normalise_mainland_mobile(phone)
        except ValidationError as exc:
            raise ValidationError(exc.messages, code="invalid_phone") from None

    def get_phone(self, user):
        return (user.phone, True) if user.phone else None

    def set_phone(self, user, phone: str, verified: bool) -> None:
        # Only verified numbers are stored (codes come from wuji.accounts.otp), see services.change_contact.
        if verified:
            get_user_model().objects.filter(pk=user.pk).update(phone=self.clean_phone(phone))

    def set_phone_verified(self, user, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str):
        try:
            phone = self.clean_phone(phone)
        except ValidationError:
            return None
        return get_user_model().objects.filter(phone=phone).first()

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        raise NotImplementedError("phone codes are issued by wuji.accounts.otp")

    # --- brute force, locked accounts ------------------------------------------------------------------
    def pre_authenticate(self, request, **credentials) -> None:
        from . import services

        identifier = _identifier(credentials)
        ip = services.request_origin(request)["ip"]
        limited = services.login_failures_exceeded(identifier=identifier, ip=ip)
        if not limited:
            try:
                super().pre_authenticate(request, **credentials)
            except ValidationError:
                limited = True
        if limited:
            services.record_login_event(request=request, event=LoginEvent.FAILED, identifier=identifier,
                                        user=services.find_user(identifier), result=LoginResult.RATE_LIMITED)
            raise ValidationError(RATE_LIMITED_MESSAGE, code="too_many_login_attempts")

    def authenticate(self, request, **credentials):
        from . import services

        user = super().authenticate(request, **credentials)
        if user is not None and user.locked_at:
            self._rollback_login_failed_rl_usage()
            services.record_login_event(request=request, event=LoginEvent.FAILED, user=user,
                                        identifier=_identifier(credentials), result=LoginResult.LOCKED)
            raise ValidationError(LOCKED_MESSAGE, code="account_locked")
        return user

    def pre_login(self, request, user, **kwargs):
        """Passkey and third-party sign-in skip `authenticate`; a locked account is refused here too."""
        from . import services

        if user.locked_at:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            services.record_login_event(request=request, event=LoginEvent.FAILED, user=user,
                                        result=LoginResult.LOCKED)
            messages.error(request, LOCKED_MESSAGE)
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    # --- mail goes out after commit, through a task ----------------------------------------------------
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from . import tasks

        message = self.render_mail(template_prefix, email, context)
        body_html = next((content for content, mime in getattr(message, "alternatives", []) if mime == "text/html"),
                         "")
        transaction.on_commit(lambda: tasks.send_account_mail.enqueue(
            subject=message.subject, body=message.body, to=list(message.to), html=body_html))

    def get_client_ip(self, request) -> str:
        # Same rule as the portal (wuji.portal.http.client_ip): REMOTE_ADDR, set by the trusted proxy.
        return request.META.get("REMOTE_ADDR") or "0.0.0.0"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Third-party accounts are only bound to an existing, signed-in account from the security page."""

    def is_open_for_signup(self, request, sociallogin):
        return False

    def pre_social_login(self, request, sociallogin):
        user = sociallogin.user if sociallogin.is_existing else None
        if user is not None and getattr(user, "locked_at", None):
            messages.error(request, _(str(LOCKED_MESSAGE)))
