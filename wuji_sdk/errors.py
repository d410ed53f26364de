"""What the SDK raises: `ApiError` (and its subclasses by HTTP status) when the API refuses or cannot be reached,
`UsageError` when a call is wrong before any request is sent.

Error bodies are `{"code", "message", "field", "request_id"?}`; each field is carried on the exception, so a
script can branch on the stable `code` rather than on the message, which is in the caller's language.
"""

from __future__ import annotations


class UsageError(ValueError):
    """The call cannot be built: an unknown operation, a missing path parameter, an unknown field."""


class ApiError(Exception):
    """The API refused the request (status set) or could not be reached (status None)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 field: str | None = None, request_id: str | None = None, body: object = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.message, self.status, self.code, self.field = message, status, code, field
        self.request_id, self.body, self.retry_after = request_id, body, retry_after

    def __str__(self) -> str:
        details = [f"{name}={value}" for name, value in
                   (("status", self.status), ("code", self.code), ("field", self.field),
                    ("request_id", self.request_id)) if value is not None]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def as_dict(self) -> dict:
        return {"status": self.status, "code": self.code, "message": self.message, "field": self.field,
                "request_id": self.request_id}


class BadRequest(ApiError):
    """400 and the other 4xx without a class of their own (402 insufficient balance among them)."""


class AuthenticationFailed(ApiError):
    """401: the key, its secret or the signature was not accepted."""


class PermissionDenied(ApiError):
    """403: the key may not do this (scope, IP allow-list, restriction, agreement not accepted)."""


class NotFound(ApiError):
    """404: no such object, or it belongs to someone else (the API does not tell the two apart)."""


class Conflict(ApiError):
    """409: refused in the object's current state (e.g. starting a running server)."""


class Unprocessable(ApiError):
    """422: well-formed but refused (e.g. an Idempotency-Key reused with another body)."""


class RateLimited(ApiError):
    """429, still after the retries; `retry_after` says how long the server asked to wait."""


class ServerError(ApiError):
    """5xx, still after the retries."""


class ConnectionFailed(ApiError):
    """No HTTP answer: connection refused or reset, DNS failure, timeout (after the retries)."""


_BY_STATUS = {401: AuthenticationFailed, 403: PermissionDenied, 404: NotFound, 409: Conflict, 422: Unprocessable,
              429: RateLimited}


def error_class(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, BadRequest)
