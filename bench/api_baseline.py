"""The baseline of bench/api.py: a bare Django view returning the same 20 server rows from the same table,
served by the same settings and middleware, without DRF, authentication or serializers.

gunicorn loads `bench.api_baseline:application`; BENCH_OWNER_ID names whose servers to return.
"""

import os

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
django.setup()
settings.ROOT_URLCONF = __name__

FIELDS = ("id", "uuid", "name", "region__code", "plan__code", "image__code", "vcpus", "memory_mib", "disk_gib",
          "vm_state", "task_state", "power_state", "suspension_reason", "last_error", "created_at", "expires_at")


def servers(request):
    from wuji.compute.models import Server

    rows = list(Server.objects.filter(owner_id=int(os.environ["BENCH_OWNER_ID"])).order_by("-pk").values(*FIELDS)[:20])
    return JsonResponse({"results": rows})


urlpatterns = [path("baseline/servers/", servers)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 — after the URL configuration is in place

application = get_wsgi_application()
