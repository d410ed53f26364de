from django import template

from wuji.status import services
from wuji.status.views import DISMISSED_KEY

register = template.Library()


@register.simple_tag
def banner_announcements(request):
    """Current announcements this browser session has not dismissed, newest first."""
    if request is None:
        return []
    dismissed = request.session.get(DISMISSED_KEY, []) if hasattr(request, "session") else []
    return list(services.current_announcements().exclude(pk__in=dismissed)[:5])


@register.simple_tag
def server_maintenance(server):
    return services.windows_for_server(server) if server is not None else []
