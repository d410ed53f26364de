"""API v1: open a server's VNC console (远程控制台). Thin: the owner boundary, the service, its refusals."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.errors import Conflict
from wuji.api.views import client_ip, error_responses
from wuji.audit.choices import Channel
from wuji.compute import console
from wuji.compute import services as compute


class ConsoleTokenSerializer(serializers.Serializer):
    server = serializers.IntegerField(help_text="the server's id")
    token = serializers.CharField(help_text="single use, valid 60 s; shown only in this response")
    url = serializers.CharField(
        help_text="the WebSocket URL to open (token included); send an Origin the platform accepts, or none")
    expires_at = serializers.DateTimeField()


class ServerConsoleView(APIView):
    @extend_schema(request=None, responses={201: ConsoleTokenSerializer, **error_responses(404, 409)},
                   operation_id="servers_console_create", tags=["servers"])
    def post(self, request: Request, pk: int) -> Response:
        """Open the server's VNC console (远程控制台): a token for one WebSocket connection to the console
        proxy within 60 s. The server must be running with no operation in flight."""
        server = get_object_or_404(compute.servers_of(request.user), pk=pk)
        try:
            issued = console.issue_token(request.user, server, channel=Channel.API, ip=client_ip(request))
        except console.ConsoleRefused as exc:
            raise Conflict(str(exc), code=f"console_{exc.code}") from exc
        data = {"server": server.pk, "token": issued.token, "url": issued.url, "expires_at": issued.expires_at}
        return Response(ConsoleTokenSerializer(data).data, status=status.HTTP_201_CREATED)
