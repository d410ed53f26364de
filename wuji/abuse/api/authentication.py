from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from .. import services


class PartnerFeedAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <partner token>` issued by staff for a complaint feed (not a customer API key)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        feed = services.partner_for(header[len(self.keyword) + 1:].strip())
        if feed is None:
            raise exceptions.AuthenticationFailed(_("合作方令牌无效或已停用。"))
        return AnonymousUser(), feed

    def authenticate_header(self, request):
        return self.keyword


class IsPartnerFeed(permissions.BasePermission):
    def has_permission(self, request, view):
        from ..models import PartnerFeed

        return isinstance(request.auth, PartnerFeed)


class PartnerFeedScheme(OpenApiAuthenticationExtension):
    target_class = PartnerFeedAuthentication
    name = "partnerFeed"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "staff-issued partner complaint-feed token"}
