"""Content Security Policy and related headers on every response (decision 0040).

No page of the platform runs inline script: scripts are static files (ES modules and allauth's own files)
and data reaches them through `json_script` blocks or data attributes, so `script-src 'self'` holds
everywhere. Inline styles are allowed only in the staff console, where Django admin's widgets use them.
The console's WebSocket origin (WUJI_CONSOLE_URL) and the Alipay gateway (where a top-up form may lead)
are the only foreign origins allowed.
"""

from urllib.parse import urlsplit

from django.conf import settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def policy(*, console: bool) -> str:
    connect = ["'self'", _origin(settings.WUJI_CONSOLE_URL)]
    forms = ["'self'", _origin(settings.WUJI_ALIPAY_GATEWAY)]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"] if console else ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": connect,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": forms,
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(source for source in sources if source)}"
                     for name, sources in directives.items())


PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy unless a view set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Built per response (a few microseconds), so a changed console URL takes effect at once.
        response.headers.setdefault("Content-Security-Policy", policy(console=request.path.startswith("/console/")))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
