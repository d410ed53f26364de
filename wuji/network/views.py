"""The edge's endpoint: the ICP allow-list as JSON, for a shared token (WUJI_EDGE_TOKEN)."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from . import edge


@require_GET
def icp_allowlist(request):
    """404 while no token is configured (the endpoint does not exist), 403 for a missing or wrong token."""
    token = settings.WUJI_EDGE_TOKEN
    if not token:
        raise Http404
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        return JsonResponse({"error": "forbidden"}, status=403)
    response = HttpResponse(edge.render_json(edge.allowlist()), content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
