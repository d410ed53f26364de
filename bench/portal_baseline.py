"""The baseline of bench/portal.py: bare Django views rendering the same server rows from the same table
through a minimal template, served by the same settings and middleware, without sign-in, the portal's base
template, context processors or the server page's panels.

gunicorn loads `bench.portal_baseline:application`; BENCH_OWNER_ID names whose servers to show.
"""

import os

import django
from django.conf import settings
from django.http import Http404, HttpResponse
from django.template import engines
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
django.setup()
settings.ROOT_URLCONF = __name__

# The columns of the portal's server table and the properties of its server page, from the same joins (names in
# Chinese, the default language).
FIELDS = ("id", "uuid", "name", "vm_state", "task_state", "region__name_zh", "plan__name_zh", "image__name_zh",
          "vcpus", "memory_mib", "disk_gib", "created_at", "expires_at")

LIST = engines["django"].from_string("""<!doctype html><title>servers</title><table>
{% for s in servers %}<tr><td><a href="/baseline/pages/servers/{{ s.id }}/">{{ s.name }}</a></td>
<td>{{ s.vm_state }} {{ s.task_state|default:"" }}</td><td>{{ s.region__name_zh }}</td>
<td>{{ s.vcpus }} vCPU · {{ s.memory_mib }} MiB · {{ s.disk_gib }} GiB</td><td>{{ s.image__name_zh }}</td>
<td>{{ s.expires_at|date:"Y-m-d H:i"|default:"—" }}</td></tr>
{% endfor %}</table>""")

DETAIL = engines["django"].from_string("""<!doctype html><title>{{ s.name }}</title><h1>{{ s.name }}</h1>
<dl><dt>state</dt><dd>{{ s.vm_state }} {{ s.task_state|default:"" }}</dd><dt>region</dt><dd>{{ s.region__name_zh }}</dd>
<dt>plan</dt><dd>{{ s.plan__name_zh }}</dd><dt>vCPU</dt><dd>{{ s.vcpus }}</dd><dt>memory</dt><dd>{{ s.memory_mib }}</dd>
<dt>disk</dt><dd>{{ s.disk_gib }}</dd><dt>image</dt><dd>{{ s.image__name_zh }}</dd>
<dt>created</dt><dd>{{ s.created_at|date:"Y-m-d H:i" }}</dd>
<dt>expires</dt><dd>{{ s.expires_at|date:"Y-m-d H:i"|default:"—" }}</dd><dt>UUID</dt><dd>{{ s.uuid }}</dd></dl>""")


def _servers():
    from wuji.compute.models import Server

    return Server.objects.filter(owner_id=int(os.environ["BENCH_OWNER_ID"])).exclude(vm_state="released")


def servers(request):
    return HttpResponse(LIST.render({"servers": list(_servers().order_by("-pk").values(*FIELDS))}))


def server(request, pk: int):
    row = _servers().filter(pk=pk).values(*FIELDS).first()
    if row is None:
        raise Http404
    return HttpResponse(DETAIL.render({"s": row}))


urlpatterns = [path("baseline/pages/servers/", servers), path("baseline/pages/servers/<int:pk>/", server)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 — after the URL configuration is in place

application = get_wsgi_application()
