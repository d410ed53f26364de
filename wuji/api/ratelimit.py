"""Rate limits of API v1: fixed windows counted in Django's cache (docs/decisions/0042-api-conventions.md).

`WUJI_API_RATE_LIMITS` gives a rate per class of request: "read" (GET, HEAD, OPTIONS) and "write" (the rest),
e.g. "600/min". The caller is the API key (each key has its own budget), the user for session callers, the IP
address for anonymous ones. The counter is `cache.add` (create the window's key at 0) then `cache.incr`, both
atomic on Redis (WUJI_CACHE_URL), so every process shares one count.
"""

import dataclasses
import math

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from wuji.core import clock

from .errors import ApiError

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ATTR = "_wuji_rate_limit"


class RateLimited(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"
    default_detail = _("请求过于频繁，请在 Retry-After 所示的秒数后重试。")

    def __init__(self, wait: int):
        super().__init__()
        self.wait = wait  # DRF's exception handler sends it as Retry-After


@dataclasses.dataclass(frozen=True)
class Window:
    limit: int
    count: int
    reset: int  # unix seconds at which the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.reset - now))

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}


def parse_rate(rate: str) -> tuple[int, int]:
    """"600/min" -> (600, 60). Also "10/s", "1000/hour", "5/10s" (a multiple of the unit)."""
    count, _sep, period = rate.partition("/")
    digits = "".join(c for c in period if c.isdigit())
    unit = period[len(digits):].strip().lower()
    if unit not in PERIODS:
        raise ValueError(f"unknown rate period in {rate!r}")
    return int(count), PERIODS[unit] * (int(digits) if digits else 1)


def scope_of(method: str) -> str:
    return "read" if method.upper() in SAFE_METHODS else "write"


def caller_of(request) -> str:
    """The budget this request spends: its API key, else its user, else its IP address."""
    auth = getattr(request, "auth", None)
    user = getattr(request, "user", None)
    if auth is not None and getattr(auth, "key_id", None):
        return f"key:{auth.key_id}"
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR') or '-'}"


def hit(request) -> Window | None:
    """Count this request in its caller's current window; None when the scope has no limit."""
    scope = scope_of(request.method)
    rate = settings.WUJI_API_RATE_LIMITS.get(scope)
    if not rate:
        return None
    limit, period = parse_rate(rate)
    now = clock.now().timestamp()
    start = int(now // period * period)
    key = f"wuji:rl:{scope}:{caller_of(request)}:{period}:{start}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: this request opens the window again
        cache.add(key, 1, timeout=period + 5)
        count = 1
    window = Window(limit=limit, count=count, reset=start + period)
    setattr(getattr(request, "_request", request), _REQUEST_ATTR, window)
    return window


def check(request) -> None:
    """Refuse with 429 `rate_limited` once the caller's window is spent."""
    window = hit(request)
    if window is not None and window.exceeded:
        raise RateLimited(wait=window.retry_after(clock.now().timestamp()))


def counted(request) -> Window | None:
    return getattr(request, _REQUEST_ATTR, None)
