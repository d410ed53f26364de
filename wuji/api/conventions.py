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


IDEMPOTENCY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"},
    "description": "client-chosen unique key (e.g. a UUID); a retry with the same key and request gets the first "
                   "response again for 24 h (docs/api.md)",
}
MUTATING = ("post", "put", "patch", "delete")


def document_conventions(result, generator, request, public):
    """drf-spectacular postprocessing hook: every mutating operation of the layer takes `Idempotency-Key`, and
    every operation may answer 429 `rate_limited` — without each view declaring them."""
    exempt = {(path, method.lower()) for path, _regex, method, view in getattr(generator, "endpoints", [])
              if getattr(getattr(view, "cls", None), "idempotency_exempt", False)}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in (*MUTATING, "get", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("429", {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}, "description": "rate_limited"})
            if method not in MUTATING or (path, method) in exempt:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
                parameters.append(dict(IDEMPOTENCY_PARAMETER))
    return result
