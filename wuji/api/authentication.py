from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from wuji.accounts import restrictions

from . import services


class FunctionRestrictedError(exceptions.PermissionDenied):
    """403 `function_restricted`: the key is valid but its owner's API access is restricted (4.5.2.2)."""

    default_code = restrictions.CODE


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key_id>.<secret>`. Request signing (HMAC) comes with the API issue."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        token = header[len(self.keyword) + 1:].strip()
        key_id, _sep, secret = token.partition(".")
        if not key_id or not secret:
            raise exceptions.AuthenticationFailed(_("API 密钥格式错误。"))
        key = services.authenticate(key_id, secret)
        if key is None:
            raise exceptions.AuthenticationFailed(_("API 密钥无效或已撤销。"))
        if key.api_restricted:  # read with the key, in the same query (4.5.2.2)
            restrictions.require(key.owner, restrictions.RestrictedFunction.API, refuse=FunctionRestrictedError)
        request.api_key = key
        return key.owner, key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the API key to the OpenAPI schema (HTTP bearer with `<key_id>.<secret>`)."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<key_id>.<secret>",
            "description": "在控制台创建 API 密钥；Create a key in the portal and send `Authorization: Bearer "
                           "<key_id>.<secret>`.",
        }
