"""Mainland China mobile numbers (domain-cn §3): normalise to E.164 ``+86XXXXXXXXXXX``, display masked."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PREFIXES = ("+86", "0086", "86")


def normalise_mainland_mobile(raw: str | None, *, field: str = "phone") -> str:
    """Return the number as ``+86XXXXXXXXXXX``.

    Strips spaces, dashes and parentheses; strips ``+86``, ``0086`` or ``86`` only when exactly 11 digits
    remain; then requires ``^1[3-9]\\d{9}$`` (the loose rule: per-segment lists go stale). Raises a
    ValidationError keyed by ``field``.
    """
    number = _SEPARATORS.sub("", raw or "")
    if not number:
        raise ValidationError({field: [_("请填写手机号码。")]}, code="required")
    for prefix in _PREFIXES:
        if number.startswith(prefix) and len(number) - len(prefix) == 11:
            number = number[len(prefix):]
            break
    if not _MAINLAND_MOBILE.fullmatch(number):
        raise ValidationError({field: [_("请输入有效的中国大陆手机号码（11 位，以 1 开头）。")]}, code="invalid")
    return f"+86{number}"


def mask_mobile(phone_e164: str) -> str:
    """``+8613800138000`` → ``138****8000`` (the national number with its middle four digits hidden)."""
    national = phone_e164[3:] if phone_e164.startswith("+86") else phone_e164
    if len(national) < 8:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"
