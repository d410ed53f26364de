"""Error bodies: {"code": stable machine code, "message": in the caller's language, "field": ...}."""

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(getattr(exc, "detail", None), dict):
        field, messages = next(iter(exc.detail.items()))
        message = messages[0] if isinstance(messages, list) else messages
        response.data = {"code": "invalid", "message": str(message), "field": field, "errors": data}
    else:
        detail = getattr(exc, "detail", data)
        code = getattr(detail, "code", code)
        response.data = {"code": str(code), "message": str(detail), "field": None}
    return response
