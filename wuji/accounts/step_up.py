"""Step-up verification for sensitive operations (clause 3.1.2).

An operation listed in `settings.WUJI_STEP_UP` passes when the user re-authenticated within its window
(allauth's reauthentication: password or an MFA authenticator, or a code through this module) with one
of its allowed factors, or presents a TOTP or SMS/e-mail code with the request itself. The factor that
authorised it is returned so the caller records it in the instruction's params.
Re-exported by `wuji.accounts.services`.
"""

import time

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import Factor, LoginEvent, LoginResult

OPERATION_LABELS = {
    "reinstall": gettext_lazy("重装系统"),
    "reset_password": gettext_lazy("重置密码"),
    "api_key_create": gettext_lazy("创建 API 密钥"),
    "password_change": gettext_lazy("修改密码"),
    "contact_change": gettext_lazy("更换手机或邮箱"),
    "withdrawal": gettext_lazy("提现"),
    "server_push": gettext_lazy("转移服务器"),
    "security_question": gettext_lazy("设置密保问题"),
    "data_export": gettext_lazy("下载我的数据"),
    "account_cancel": gettext_lazy("注销账户"),
}
MFA_TYPES = {"totp": Factor.TOTP, "webauthn": "webauthn", "recovery_codes": "recovery_code"}
STEP_UP_PURPOSE = "step_up"


class StepUpRequired(Exception):
    """The operation needs a fresh verification; `factors` are the ones this user can use for it."""

    def __init__(self, operation: str, factors: list[str]):
        self.operation = operation
        self.factors = factors
        super().__init__(_("“%(operation)s”需要先验证身份。") % {"operation": operation_label(operation)})


class StepUpFailed(Exception):
    """A presented factor did not verify; the message is for the user."""


def operation_label(operation: str) -> str:
    return str(OPERATION_LABELS.get(operation, operation))


def policy(operation: str) -> dict | None:
    if operation not in settings.WUJI_STEP_UP:
        raise KeyError(f"unknown step-up operation {operation!r}")
    return settings.WUJI_STEP_UP[operation]


def _allowed(factor: str, allowed: list[str]) -> bool:
    # Any MFA authenticator (passkey, recovery code) stands where a TOTP code is allowed.
    return factor in allowed or (factor in ("webauthn", "recovery_code") and Factor.TOTP in allowed)


def _factor_of(record: dict) -> str | None:
    method = record.get("method")
    if method == "password":
        return Factor.PASSWORD
    if method == "mfa":
        return MFA_TYPES.get(record.get("type"))
    if method == "wuji_code":
        return record.get("type")
    return None


def recent_factor(request, operation: str) -> str | None:
    """The factor of the latest re-authentication within the operation's window, if any is allowed."""
    from allauth.account.authentication import get_authentication_records

    rule = policy(operation)
    window = float(rule.get("within_minutes", 10)) * 60
    now = time.time()
    for record in reversed(get_authentication_records(request, request.user)):
        if not record.get("reauthenticated") or now - record.get("at", 0) > window:
            continue
        factor = _factor_of(record)
        if factor and _allowed(factor, rule["factors"]):
            return factor
    return None


def available_factors(user, operation: str) -> list[str]:
    """The factors this user can use for the operation, in the order they are offered."""
    from allauth.mfa.models import Authenticator

    allowed = policy(operation)["factors"]
    has = {Factor.PASSWORD: user.has_usable_password(),
           Factor.TOTP: Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
           Factor.SMS: bool(user.phone),
           Factor.EMAIL: bool(user.email)}
    return [f for f in (Factor.TOTP, Factor.SMS, Factor.EMAIL, Factor.PASSWORD) if f in allowed and has[f]]


def require_step_up(request, operation: str) -> str:
    """Return the factor that authorises `operation` for `request.user`, or raise StepUpRequired.

    A TOTP code (`step_up_totp`) or an SMS/e-mail code (`step_up_code` + `step_up_channel`) posted with
    the request is checked here; a wrong one raises StepUpFailed.
    """
    rule = policy(operation)
    if not rule:
        return Factor.NONE
    posted = request.POST if request.method == "POST" else {}
    if posted.get("step_up_totp"):
        return verify_factor(request, operation, Factor.TOTP, posted["step_up_totp"])
    if posted.get("step_up_code") and posted.get("step_up_channel") in (Factor.SMS, Factor.EMAIL):
        return verify_factor(request, operation, posted["step_up_channel"], posted["step_up_code"])
    factor = recent_factor(request, operation)
    if factor:
        return factor
    raise StepUpRequired(operation, available_factors(request.user, operation))


def send_step_up_code(request, operation: str, channel: str):
    """Send a step-up code to the user's own phone or e-mail. Raises otp.RateLimited, StepUpFailed."""
    from . import otp

    user = request.user
    if channel not in available_factors(user, operation) or channel not in (Factor.SMS, Factor.EMAIL):
        raise StepUpFailed(_("该验证方式不可用。"))
    address = user.phone if channel == Factor.SMS else user.email
    return otp.issue_code(purpose=STEP_UP_PURPOSE, channel=channel, address=address,
                          ip=request.META.get("REMOTE_ADDR"), user=user)


def verify_factor(request, operation: str, factor: str, secret: str) -> str:
    """Check one factor for `operation`; on success remember it as a re-authentication and return it."""
    from allauth.account.internal.flows.login import record_authentication

    from . import otp
    from .security import record_login_event

    user = request.user
    secret = (secret or "").strip()
    if factor not in available_factors(user, operation):
        raise StepUpFailed(_("该验证方式不可用。"))
    ok, extra = False, {}
    if factor == Factor.PASSWORD:
        ok, method = user.check_password(secret), "password"
    elif factor == Factor.TOTP:
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        ok, method = TOTP(authenticator).validate_code(secret), "mfa"
        extra = {"type": "totp", "id": authenticator.pk}
    else:
        address = user.phone if factor == Factor.SMS else user.email
        try:
            ok = otp.verify_code(purpose=STEP_UP_PURPOSE, address=address, code=secret)
        except otp.CodeError as exc:
            record_login_event(request=request, event=LoginEvent.STEP_UP, user=user,
                               result=LoginResult.WRONG_FACTOR, detail=f"{operation}:{factor}")
            raise StepUpFailed(exc.message) from None
        method, extra = "wuji_code", {"type": factor}
    if not ok:
        record_login_event(request=request, event=LoginEvent.STEP_UP, user=user, result=LoginResult.WRONG_FACTOR,
                           detail=f"{operation}:{factor}")
        raise StepUpFailed(_("密码不正确。") if factor == Factor.PASSWORD else _("验证码不正确。"))
    record_authentication(request, user, method=method, reauthenticated=True, **extra)
    record_login_event(request=request, event=LoginEvent.STEP_UP, user=user, detail=f"{operation}:{factor}")
    return factor
