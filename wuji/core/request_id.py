"""Request ids: every response carries `X-Request-Id`, every log record of the request and every API error body
name it, so a customer's report can be matched with the server's logs (docs/decisions/0042).

A client may send its own id (8–64 characters of [A-Za-z0-9_-], e.g. a UUID) to follow a call through its own
logs; anything else is replaced by a generated one.
"""

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-Id"
META_KEY = "HTTP_X_REQUEST_ID"
PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("wuji_request_id", default=None)


def current() -> str | None:
    """The id of the request being handled in this thread (or task), if any."""
    return _current.get()


def of(request) -> str | None:
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "request_id", None) or current()


def choose(sent: str | None) -> str:
    sent = (sent or "").strip()
    return sent if PATTERN.match(sent) else uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that responses from every later middleware carry the id too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = choose(request.META.get(META_KEY))
        token = _current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request), for the formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current() or "-"
        return True
