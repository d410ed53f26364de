"""SMS backends: `get_backend()` returns the configured `WUJI_SMS_BACKEND` (the log backend by default)."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import SendResult, SmsBackend, SmsError

__all__ = ["SendResult", "SmsBackend", "SmsError", "get_backend"]


def get_backend(path: str | None = None) -> SmsBackend:
    return import_string(path or settings.WUJI_SMS_BACKEND)()
