"""Finishes API responses: stores or releases the idempotency claim and adds the rate-limit headers.

It runs after the response is rendered (Django renders DRF's responses before the middleware sees them), so
the stored body is exactly what the client received.
"""

from . import idempotency, ratelimit


class ApiConventionsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/"):
            return response
        idempotency.finish(request, response)
        window = ratelimit.counted(request)
        if window is None:
            # Answered before the rate-limit stage ran (authentication or permission refused, unknown path):
            # counted all the same, so that failing requests spend a budget too and every response has the headers.
            window = ratelimit.hit(request)
        if window is not None:
            for name, value in window.headers().items():
                response[name] = value
        return response
