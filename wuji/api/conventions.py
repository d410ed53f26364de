"""The API conventions that run for every DRF view after authentication and permissions.

They are DRF "throttles" (DEFAULT_THROTTLE_CLASSES): the one hook DRF runs for every view after
authentication and permission checks and before the handler, which no view in the project replaces (views that
set their own `permission_classes`, like the agreement's, would drop a default permission class). Both raise
their refusal themselves instead of returning False, so the second never runs after the first refused.
`wuji/api/tests/test_idempotency.py` checks that every mutating API route passes through them.
"""

from rest_framework.throttling import BaseThrottle


class RateLimit(BaseThrottle):
    """429 `rate_limited` once the caller's fixed window is spent (wuji.api.ratelimit)."""

    def allow_request(self, request, view) -> bool:
        from . import ratelimit

        if request.path.startswith("/api/"):
            ratelimit.check(request)
        return True


class IdempotencyClaim(BaseThrottle):
    """Claims the request's `Idempotency-Key`, replays a stored response or refuses (wuji.api.idempotency)."""

    def allow_request(self, request, view) -> bool:
        from . import idempotency
        from .views import idempotency_key

        if idempotency.applies(request, view):
            idempotency.claim(request, idempotency_key(request))
        return True

