"""The scope check for API keys (decision 0041): a default permission class, so every API view has it."""

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from . import scopes
from .authentication import KeyForbidden
from .models import ApiKey


class ApiKeyScopes(BasePermission):
    """Every key reads; a mutating request through a key needs the scope of its route (wuji.api.scopes).

    Session-authenticated requests (the portal) are not scope-limited. A mutating route missing from the table
    is refused to keys (fail closed); a test keeps the table complete."""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey) or request.method in SAFE_METHODS or not _handles(view, request.method):
            return True  # a method the view does not have goes on to its 405
        match = getattr(request, "resolver_match", None)
        needed = scopes.scope_for(match.view_name if match else None)
        if needed is None or needed not in key.scopes:
            label = scopes.label_of(needed) if needed else "?"
            raise KeyForbidden(_("该 API 密钥没有此操作所需的权限范围“%(scope)s”（%(code)s）。请在控制台创建带此权限"
                                 "范围的密钥。") % {"scope": label, "code": needed or "?"}, code="scope_missing")
        return True


def _handles(view, method: str) -> bool:
    action_map = getattr(view, "action_map", None)  # a viewset: its routes' methods
    if action_map is not None:
        return method.lower() in action_map
    return hasattr(view, method.lower())
