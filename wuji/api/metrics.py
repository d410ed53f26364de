"""API: a server's metrics (监控) — rates per minute over the last 24 hours, from wuji.compute.metrics."""

import datetime as dt

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.compute import metrics
from wuji.compute import services as compute
from wuji.core import clock

from .views import error_responses

HOURS = 24


class RatePointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="start of the minute")
    cpu_percent = serializers.FloatField(help_text="share of the server's vCPUs in use, 0–100")
    net_in_bps = serializers.FloatField(allow_null=True, help_text="bits/s received by the server")
    net_out_bps = serializers.FloatField(allow_null=True, help_text="bits/s sent by the server")
    packets_in_ps = serializers.FloatField(allow_null=True, help_text="packets/s received")
    packets_out_ps = serializers.FloatField(allow_null=True, help_text="packets/s sent")
    disk_read_bps = serializers.FloatField(allow_null=True, help_text="bytes/s read from disk")
    disk_write_bps = serializers.FloatField(allow_null=True, help_text="bytes/s written to disk")


class ServerMetricsSerializer(serializers.Serializer):
    server = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    step_seconds = serializers.IntegerField()
    points = RatePointSerializer(many=True, help_text="one per minute that has samples, oldest first")


class ServerMetricsView(APIView):
    @extend_schema(responses={200: ServerMetricsSerializer, **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        """A server's CPU, network and disk rates per minute over the last 24 hours (null: not reported)."""
        server = get_object_or_404(compute.servers_of(request.user), pk=pk)
        until = clock.now()
        points = metrics.series(server, hours=HOURS, now=until)
        return Response(ServerMetricsSerializer({
            "server": server.pk, "since": until - dt.timedelta(hours=HOURS), "until": until,
            "step_seconds": int(metrics.STEP.total_seconds()), "points": points,
        }).data)
