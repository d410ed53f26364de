"""Error bodies: {"code": stable machine code, "message": in the caller's language, "field": ...,
"request_id": the X-Request-Id of the response}.

Views raise `ApiError` subclasses for refusals the services report; DRF's own exceptions (validation,
authentication, 404) are reshaped here into the same body.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException, ErrorDetail
from rest_framework.settings import api_settings

from wuji.core import request_id


class ApiError(APIException):
    """A refusal with a stable `code`, a message for people and optionally the field it concerns."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "error"
    default_detail = _("请求被拒绝。")

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None):
        super().__init__(detail=message, code=code)
        self.field = field


class PaymentRequired(ApiError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_code = "insufficient_balance"
    default_detail = _("余额不足，请先充值。")


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("请求与资源当前状态冲突。")


class UnprocessableEntity(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"
    default_detail = _("请求无法处理。")


def _first_error(detail, path: str | None = None) -> tuple[str | None, ErrorDetail | str]:
    """The first (field, message) in a possibly nested DRF error structure; field paths are dotted."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        key = None if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
        return _first_error(value, ".".join(p for p in (path, key) if p) or None)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    return path, detail


def exception_handler(exc, context):
    from . import idempotency  # imports this module

    if isinstance(exc, idempotency.Replay):
        return exc.response()  # not an error: the stored response of the first request with this key
    response = _error_response(exc, context)
    if response is not None:
        response.data["request_id"] = request_id.of(context.get("request"))
    return response


def _error_response(exc, context):
    # Imported here: rest_framework.views imports the authentication classes, which raise ApiError subclasses.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # Django's message names the model ("No Server matches…"): not for clients
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", response.data)
    if isinstance(exc, ApiError):
        response.data = {"code": str(detail.code), "message": str(detail), "field": exc.field}
    elif isinstance(detail, dict | list):
        field, message = _first_error(detail)
        response.data = {"code": "invalid", "message": str(message), "field": field, "errors": response.data}
    else:
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": str(code), "message": str(detail), "field": None}
    return response


def page_not_found(request, exception):
    """Django's 404 handler: a path under /api/ that matches no route (e.g. /api/v1/announcements/-1/) gets the
    API's error body, like any other API 404; other paths get the site's page."""
    from django.http import JsonResponse
    from django.views import defaults

    if not request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"code": "not_found", "message": str(exceptions.NotFound.default_detail), "field": None,
                         "request_id": request_id.of(request)}, status=404, json_dumps_params={"ensure_ascii": False})
