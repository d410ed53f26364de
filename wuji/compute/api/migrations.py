"""API v1: the moves of a server that staff scheduled (机房迁移), as its owner sees them. Read-only: staff
decide and run migrations; the owner needs the window, the new public IP and the outcome."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.views import error_responses
from wuji.compute import migration
from wuji.compute import services as compute
from wuji.compute.choices import MigrationState
from wuji.compute.models import MigrationItem


class MigrationSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=MigrationState.choices(), read_only=True)
    window_start = serializers.DateTimeField(source="plan.window_start", read_only=True,
                                             help_text="the server is stopped and moved within the window")
    window_end = serializers.DateTimeField(source="plan.window_end", read_only=True)
    reason = serializers.CharField(source="plan.reason", read_only=True, help_text="why staff move it")
    address_changes = serializers.BooleanField(
        read_only=True, help_text="true: after the move point your DNS records at new_address")

    class Meta:
        model = MigrationItem
        fields = ["id", "state", "window_start", "window_end", "reason", "old_address", "new_address",
                  "address_changes", "started_at", "finished_at", "error"]
        read_only_fields = fields
        extra_kwargs = {
            "old_address": {"help_text": "the public IP before the move (null: none)"},
            "new_address": {"help_text": "the public IP after the move; the same as old_address within a region"},
            "error": {"help_text": "why a failed move did not complete; the server stays on its old node and IP"},
        }


class ServerMigrationsView(APIView):
    @extend_schema(responses={200: MigrationSerializer(many=True), **error_responses(404)},
                   operation_id="servers_migrations_list", tags=["servers"])
    def get(self, request: Request, pk: int) -> Response:
        """The server's scheduled and running migrations (机房迁移) and those that ended in the last 7 days,
        latest window first. Each tells the window and, when the public IP changes, the new one."""
        server = get_object_or_404(compute.servers_of(request.user), pk=pk)
        items = migration.migrations_of(request.user, server.pk)
        return Response(MigrationSerializer(items, many=True).data)
