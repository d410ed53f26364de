"""The acceptance gate (clauses 1.1, 11): a signed-in customer who has not accepted the version in force is
sent to the acceptance page before anything else in the portal.

Left alone: the agreement pages themselves, sign-in/sign-out and the rest of allauth's account pages, the
language switch, the staff console (its users are staff, who are never gated), and the API, where the DRF
permission `wuji.agreements.api.AgreementAccepted` answers 403 `agreement_not_accepted` instead of a
redirect. Static files never reach here (WhiteNoise answers them first).
"""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from . import services

EXEMPT_NAMESPACES = {"admin", "api"}
EXEMPT_PORTAL_NAMES = {"agreement", "agreement_accept", "agreement_version", "logout", "login"}
EXEMPT_VIEW_MODULES = ("allauth.", "django.views.i18n", "django.views.static")


def _exempt(request) -> bool:
    match = request.resolver_match
    if match is None or set(match.namespaces) & EXEMPT_NAMESPACES:
        return True
    if match.namespace == "portal" and match.url_name in EXEMPT_PORTAL_NAMES:
        return True
    return getattr(match.func, "__module__", "").startswith(EXEMPT_VIEW_MODULES)


class AgreementAcceptanceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _exempt(request):
            return None
        if not services.needs_acceptance(user):
            return None
        target = reverse("portal:agreement_accept")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
