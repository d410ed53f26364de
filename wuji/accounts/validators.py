"""Field validators of the accounts app."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_QQ = re.compile(r"[1-9]\d{4,10}")


def validate_qq(value: str) -> None:
    """A QQ number: 5–11 digits, not starting with 0."""
    if value and not _QQ.fullmatch(value):
        raise ValidationError(_("请输入有效的 QQ 号码（5–11 位数字，不以 0 开头）。"), code="invalid")
