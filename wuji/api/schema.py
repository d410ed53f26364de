"""The OpenAPI schema's AutoSchema: every operation documents the errors it can give (decision 0045).

Views declare their success responses and the refusals particular to them (402 insufficient balance, 409
for a server busy with another operation…). The errors that come from the platform's layers rather than
from the view — authentication, permission, not found, validation, the idempotency layer, rate limits —
are added here to every operation they can reach, with the common error body, so that a client generated
from the schema (the SDK, the CLI) knows every status it may see. What a view already declares is kept.

The rules (a status is added only where the operation can give it):
- 401, 403: the operation needs authentication (its security has no anonymous `{}` alternative);
- 404: the path has parameters (someone else's object is not found), the list is paginated (a bad
  cursor is not found), or the operation takes `?format=` (an unknown format is not found);
- 400: the operation has a request body, query parameters or is mutating (a missing Idempotency-Key);
- 409, 422: the operation is mutating (a conflicting state; an Idempotency-Key reused with another body);
- 422 also where there is a request body;
- 429: every operation (rate limits).
Every response carries `X-Request-Id`; every mutating operation takes the `Idempotency-Key` header.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
REQUEST_ID_HEADER = "X-Request-Id"

ERROR_DESCRIPTIONS = {
    "400": "invalid request (a field, a query parameter or the Idempotency-Key header is at fault)",
    "401": "not authenticated: the credentials are missing or wrong",
    "403": "authenticated but not allowed (restricted account, agreement not accepted, step-up needed)",
    "404": "not found: no such object, or it is someone else's",
    "409": "conflicts with the object's current state",
    "422": "cannot be processed (e.g. an Idempotency-Key reused with a different body)",
    "429": "too many requests: wait as long as Retry-After says",
}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": True,
    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,100}$"},
    "description": "client-chosen unique key (e.g. a UUID); a retry with the same key returns the first "
                   "result for 24 hours, the same key with another body is refused (422 "
                   "idempotency_key_reused)",
}

REQUEST_ID = {
    "required": True,
    "schema": {"type": "string"},
    "description": "identifies this request in the platform's logs; quote it to support",
}


class WujiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the platform-wide errors, request id and idempotency header."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if self.method in MUTATING and not getattr(self.view, "idempotency_exempt", False):
            self._add_idempotency_parameter(operation)  # exempt: the partner feed, with its own deduplication
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(_error_serializer(), description=ERROR_DESCRIPTIONS[code]), code)
        for response in responses.values():
            response.setdefault("headers", {}).setdefault(REQUEST_ID_HEADER, REQUEST_ID)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _add_idempotency_parameter(self, operation: dict) -> None:
        parameters = operation.setdefault("parameters", [])
        declared = {(p.get("in"), p.get("name", "").lower()) for p in parameters}
        if ("header", IDEMPOTENCY_HEADER.lower()) not in declared:
            parameters.append(IDEMPOTENCY_PARAMETER)

    def _error_codes(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        has_query = any(p.get("in") == "query" for p in parameters)
        codes = {"429"}
        security = operation.get("security", [])
        if security and {} not in security:
            codes |= {"401", "403"}
        if "{" in self.path or (self._get_paginator() is not None and self._is_list_view()):
            codes.add("404")
        if any(p.get("in") == "query" and p.get("name") == "format" for p in parameters):
            codes.add("404")  # DRF answers an unknown ?format= with 404
        if "requestBody" in operation:
            codes |= {"400", "422"}
        if has_query:
            codes.add("400")
        if self.method in MUTATING:
            codes |= {"400", "409", "422"}
        return sorted(codes)


def _error_serializer():
    from .serializers import ErrorSerializer  # the serializers import views' models; late to avoid a cycle

    return ErrorSerializer

