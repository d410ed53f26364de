"""Public pages: announcements (公告), the status page and its JSON, and the banner's dismiss."""

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import services
from .choices import IncidentStatus, MaintenanceImpact

DISMISSED_KEY = "status_dismissed_announcements"


@require_GET
def announcements(request):
    return render(request, "status/announcements.html",
                  {"announcements": services.published_announcements()[:50]})


@require_GET
def announcement(request, pk: int):
    item = get_object_or_404(services.published_announcements(), pk=pk)
    return render(request, "status/announcement.html", {"announcement": item})


@require_POST
def dismiss_announcement(request, pk: int):
    """Hide one announcement's banner for this browser session (the list lives in the session, so it also
    works signed out). Without script the form posts and comes back; status/banner.js does it in place."""
    item = get_object_or_404(services.current_announcements(), pk=pk)
    dismissed = [i for i in request.session.get(DISMISSED_KEY, []) if isinstance(i, int)]
    if item.pk not in dismissed:
        request.session[DISMISSED_KEY] = [*dismissed[-49:], item.pk]
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    return HttpResponseRedirect(target)


@never_cache
@require_GET
def status_page(request):
    return render(request, "status/status.html", services.status_overview())


def _incident(incident) -> dict:
    return {
        "id": incident.pk, "title": incident.title, "region": incident.region.code,
        "nodes": sorted(n.name for n in incident.nodes.all()),
        "status": incident.status, "status_label": str(IncidentStatus.label(incident.status)),
        "started_at": incident.started_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "updates": [{"status": u.status, "message": u.message, "at": u.created_at.isoformat()}
                    for u in incident.updates.all()],
    }


def _window(window) -> dict:
    regions = {window.region.code} if window.region_id else {n.region.code for n in window.nodes.all()}
    return {
        "id": window.pk, "title": window.title, "description": window.description, "regions": sorted(regions),
        "nodes": sorted(n.name for n in window.nodes.all()), "impact": window.impact,
        "impact_label": str(MaintenanceImpact.label(window.impact)), "emergency": window.emergency,
        "starts_at": window.starts_at.isoformat(), "ends_at": window.ends_at.isoformat(),
    }


@never_cache
@require_GET
def status_json(request):
    overview = services.status_overview()
    return JsonResponse({
        "generated_at": overview["now"].isoformat(),
        "status": "incident" if overview["open"] else "operational",
        "incidents": {"open": [_incident(i) for i in overview["open"]],
                      "past": [_incident(i) for i in overview["past"]]},
        "maintenance": [_window(w) for w in overview["maintenance"]],
    }, json_dumps_params={"ensure_ascii": False})
