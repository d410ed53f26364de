from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from .. import services


class AgreementAccepted(BasePermission):
    """API callers who have not accepted the version in force get 403 `agreement_not_accepted` (clause 11).

    A default permission class: the agreement's own endpoints (read, accept) set their own permission classes
    and so stay reachable.
    """

    code = "agreement_not_accepted"
    message = _("您尚未同意当前生效的用户协议。请阅读 GET /api/v1/agreement/ 后通过 POST /api/v1/agreement/accept/ "
                "同意，或登录控制台同意。")

    def has_permission(self, request, view) -> bool:
        pending = getattr(request.auth, "agreement_pending", None)  # answered with the API key's own query
        if pending is not None:
            return not pending or request.user.is_staff
        return not services.needs_acceptance(request.user)
