"""Login records (6.4) written from Django's, allauth's and allauth.mfa's signals."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from .choices import LoginEvent, LoginResult


def _record(request, event, **kwargs):
    from . import services

    return services.record_login_event(request=request, event=event, **kwargs)


def _methods(request, user) -> str:
    from allauth.account.authentication import get_authentication_records

    if request is None or not hasattr(request, "session"):
        return ""
    seen = []
    for record in get_authentication_records(request, user):
        name = record.get("type") or record.get("provider") or record.get("method")
        if name and name not in seen:
            seen.append(name)
    return "+".join(seen)


@receiver(auth_signals.user_logged_in, dispatch_uid="wuji.accounts.login")
def on_logged_in(sender, request, user, **kwargs):
    _record(request, LoginEvent.LOGIN, user=user, detail=_methods(request, user))


@receiver(auth_signals.user_login_failed, dispatch_uid="wuji.accounts.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    from . import services

    identifier = str(credentials.get("email") or credentials.get("phone") or credentials.get("username") or "")
    _record(request, LoginEvent.FAILED, user=services.find_user(identifier), identifier=identifier,
            result=LoginResult.WRONG_CREDENTIALS)


@receiver(auth_signals.user_logged_out, dispatch_uid="wuji.accounts.logout")
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        _record(request, LoginEvent.LOGOUT, user=user)


@receiver(account_signals.password_changed, dispatch_uid="wuji.accounts.password_changed")
@receiver(account_signals.password_set, dispatch_uid="wuji.accounts.password_set")
def on_password_changed(sender, request, user, **kwargs):
    _record(request, LoginEvent.PASSWORD_CHANGE, user=user)


@receiver(account_signals.password_reset, dispatch_uid="wuji.accounts.password_reset")
def on_password_reset(sender, request, user, **kwargs):
    _record(request, LoginEvent.PASSWORD_RESET, user=user, detail="email")


@receiver(mfa_signals.authenticator_added, dispatch_uid="wuji.accounts.mfa_added")
def on_mfa_added(sender, request, user, authenticator, **kwargs):
    _record(request, LoginEvent.MFA_ENABLED, user=user, detail=authenticator.type)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="wuji.accounts.mfa_removed")
def on_mfa_removed(sender, request, user, authenticator, **kwargs):
    _record(request, LoginEvent.MFA_DISABLED, user=user, detail=authenticator.type)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="wuji.accounts.mfa_reset")
def on_mfa_reset(sender, request, user, authenticator, **kwargs):
    _record(request, LoginEvent.MFA_RECOVERY_CODES_RESET, user=user, detail=authenticator.type)


@receiver(mfa_signals.authenticator_used, dispatch_uid="wuji.accounts.mfa_used")
def on_mfa_used(sender, request, user, authenticator, **kwargs):
    _record(request, LoginEvent.MFA_VERIFIED, user=user, detail=authenticator.type)


@receiver(mfa_signals.authentication_failed, dispatch_uid="wuji.accounts.mfa_failed")
def on_mfa_failed(sender, request, user, authenticator, **kwargs):
    _record(request, LoginEvent.FAILED, user=user, result=LoginResult.WRONG_FACTOR, detail=authenticator.type)
