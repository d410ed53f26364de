"""Accounts: registration (clause 1.1, 2.1)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wuji.agreements import services as agreements
from wuji.audit import services as audit
from wuji.ledger import services as ledger


def register_customer(*, email: str, password: str, accepted_version: str, ip: str, channel: str = "web",
                      language: str = "zh-hans"):
    """Create a customer who actively accepted the agreement version in force; open their ledger accounts.

    Raises ValidationError keyed by field. Nothing is written unless everything succeeds.
    """
    User = get_user_model()
    email = User.objects.normalize_email(email or "").strip().lower()
    errors = {}
    if not email:
        errors["email"] = [_("请填写电子邮箱。")]
    elif User.objects.filter(email=email).exists():
        errors["email"] = [_("该邮箱已注册。")]
    try:
        validate_password(password, User(email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    current = agreements.current_version()
    if current is None:
        errors["accept_agreement"] = [_("当前没有生效的用户协议，暂不能注册。")]
    elif accepted_version != current.version:
        errors["accept_agreement"] = [_("请阅读并同意当前版本的用户协议。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, language=language)
        ledger.open_customer_accounts(user)
        agreements.record_acceptance(user=user, version=current, ip=ip, channel=channel)
        audit.record(actor=user, owner=user, channel=channel, action="account.register", target=user,
                     params={"agreement_version": current.version}, ip=ip)
    return user


def create_staff(*, email: str, password: str):
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_superuser(email=email, password=password)
        ledger.open_customer_accounts(user)
    return user
