"""Announcements (公告), the status overview (故障与维护) and a server's maintenance windows over the API (issue 7
coverage, decision 0044). Announcements and the status overview are public, as their pages are; a server's
windows are its owner's. Dismissing a banner is browser state and stays in the portal."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.views import error_responses
from wuji.compute import services as compute
from wuji.status import services
from wuji.status.models import Announcement

from .serializers import AnnouncementSerializer, MaintenanceWindowSerializer, StatusOverviewSerializer


class AnnouncementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Published announcements, newest first (ended ones stay readable, as on the public list)."""

    serializer_class = AnnouncementSerializer
    queryset = Announcement.objects.none()
    permission_classes = [AllowAny]
    lookup_value_regex = r"[0-9]+"
    filterset_fields = ["level"]
    ordering_fields = ["published_from"]
    ordering = ("-published_from", "-id")

    def get_queryset(self):
        return services.published_announcements()


class StatusView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=StatusOverviewSerializer)
    def get(self, request: Request) -> Response:
        """The status page's content: open incidents, incidents resolved in the last 30 days, and ongoing or
        upcoming maintenance windows (the same as /status.json)."""
        overview = services.status_overview()
        data = {**overview, "status": "incident" if overview["open"] else "operational",
                "incidents": {"open": overview["open"], "past": overview["past"]}}
        return Response(StatusOverviewSerializer(data).data)


class ServerMaintenanceView(APIView):
    @extend_schema(responses={200: MaintenanceWindowSerializer(many=True), **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        """Published maintenance windows, ongoing or upcoming, that touch this server (its host, or its region for
        windows that name no host), soonest first: what the server page shows."""
        server = get_object_or_404(compute.servers_of(request.user).select_related("node"), pk=pk)
        return Response(MaintenanceWindowSerializer(services.windows_for_server(server), many=True).data)
