"""Small request helpers shared by the portal views."""

from django.core.paginator import Paginator

PAGE_SIZE = 20


def client_ip(request) -> str | None:
    """The address the request came from, as Django received it.

    Forwarded-for headers are not trusted here: a client could write any address into them, and so into
    the instruction log. Behind a reverse proxy, the proxy (or the WSGI server) must set REMOTE_ADDR.
    """
    return request.META.get("REMOTE_ADDR") or None


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
