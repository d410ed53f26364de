"""The one HTTP call the vendor backends make: urllib, a timeout, JSON back, transport errors → SmsError."""

import json
import urllib.error
import urllib.request

from .base import SmsError


def post(url: str, *, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int, dict]:
    """POST and return (HTTP status, decoded JSON body). Vendors put error details in 4xx/5xx JSON bodies, so
    those are returned rather than raised; only an unreachable or non-JSON answer raises (retryable)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https endpoint from settings)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SmsError(f"SMS provider unreachable: {exc}", code="network", retryable=True) from exc
    try:
        return status, json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SmsError(f"SMS provider answered HTTP {status} without JSON", code=f"http_{status}",
                       retryable=status >= 500) from exc
