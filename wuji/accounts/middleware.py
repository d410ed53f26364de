from django.contrib import messages
from django.contrib.auth import logout

from .adapters import LOCKED_MESSAGE


class LockedAccountMiddleware:
    """A session that outlived its account's lock (2.2.1) is ended at its next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "locked_at", None):
            logout(request)
            messages.error(request, LOCKED_MESSAGE)
        return self.get_response(request)
