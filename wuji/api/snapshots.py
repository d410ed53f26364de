"""API v1: a server's snapshots (快照) — list, create, revert, delete, under /servers/<id>/snapshots/.

Instructions are accepted at once (202) and carried out in the background; watch the snapshot's `state` and
the server's `task_state`. Someone else's server or snapshot is 404.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.audit.choices import Channel
from wuji.compute import services as compute
from wuji.compute import snapshots
from wuji.compute.models import Snapshot

from .errors import Conflict
from .views import IDEMPOTENCY_PARAMETER, client_ip, error_responses, idempotency_key, validated


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = ["id", "server", "name", "state", "power_state", "size_bytes", "error", "requested_at",
                  "created_at"]
        extra_kwargs = {
            "power_state": {"help_text": "the server's power state when taken, which a revert restores"},
            "created_at": {"help_text": "when the node confirmed it; charged from then until deleted"},
        }


class SnapshotCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=snapshots.NAME_MAX, required=False, allow_blank=True, default="",
                                 help_text="a label, unique among the server's snapshots; empty: named by time")


class SnapshotAcceptedSerializer(serializers.Serializer):
    """An accepted revert or delete: it runs in the background."""

    server = serializers.IntegerField()
    snapshot = serializers.IntegerField()
    instruction_seq = serializers.IntegerField(help_text="the instruction's number in the instruction log")


@extend_schema_view(
    list=extend_schema(summary="A server's snapshots", responses={200: SnapshotSerializer(many=True),
                                                                  **error_responses(404)}),
    retrieve=extend_schema(summary="One snapshot", responses={200: SnapshotSerializer, **error_responses(404)}),
)
class SnapshotViewSet(viewsets.GenericViewSet):
    """Snapshots of one of the caller's servers, oldest first (deleted ones are not listed)."""

    serializer_class = SnapshotSerializer
    queryset = Snapshot.objects.none()
    pagination_class = None  # a server has a handful (WUJI_SNAPSHOTS_PER_SERVER): the list is a plain array

    def get_server(self):
        return get_object_or_404(compute.servers_of(self.request.user).select_related("node"),
                                 pk=self.kwargs["server_pk"])

    def get_queryset(self):
        return snapshots.snapshots_of(self.get_server()).select_related("server")

    def list(self, request: Request, server_pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request: Request, server_pk: int, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=SnapshotCreateSerializer, parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: OpenApiResponse(SnapshotSerializer, description="accepted: being taken"),
                   200: OpenApiResponse(SnapshotSerializer, description="replay of the key: the first snapshot"),
                   **error_responses(400, 404, 409)},
    )
    def create(self, request: Request, server_pk: int) -> Response:
        """Take a snapshot (disk, and memory when running); charged per the catalogue while it exists."""
        server = self.get_server()
        key = idempotency_key(request)
        body = validated(SnapshotCreateSerializer, request.data)
        replay = Snapshot.objects.filter(server=server, idempotency_key=key).exists()
        try:
            snapshot = snapshots.create_snapshot(server=server, name=body["name"], idempotency_key=key,
                                                 actor=request.user, channel=Channel.API, ip=client_ip(request))
        except compute.OperationRefused as exc:
            raise Conflict(str(exc), code="operation_refused") from exc
        if replay:
            return Response(self.get_serializer(snapshot).data, headers={"Idempotent-Replayed": "true"})
        return Response(self.get_serializer(snapshot).data, status=status.HTTP_202_ACCEPTED)

    def _instruct(self, service) -> Response:
        snapshot = self.get_object()
        try:
            instruction = service(snapshot=snapshot, actor=self.request.user, channel=Channel.API,
                                  ip=client_ip(self.request))
        except compute.OperationRefused as exc:
            raise Conflict(str(exc), code="operation_refused") from exc
        data = {"server": snapshot.server_id, "snapshot": snapshot.pk, "instruction_seq": instruction.seq}
        return Response(SnapshotAcceptedSerializer(data).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: SnapshotAcceptedSerializer, **error_responses(404, 409)})
    def revert(self, request: Request, server_pk: int, pk: int) -> Response:
        """Roll the server back to the snapshot (回滚): the server must be stopped; later writes are lost."""
        return self._instruct(snapshots.revert_snapshot)

    @extend_schema(responses={202: SnapshotAcceptedSerializer, **error_responses(404, 409)})
    def destroy(self, request: Request, server_pk: int, pk: int) -> Response:
        """Delete the snapshot; its charge stops when the node confirms."""
        return self._instruct(snapshots.delete_snapshot)
