"""Freezes API: the caller's fund freezes (5.4) and their one appeal (5.4.7). Someone else's freeze is 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.api.errors import ApiError, Conflict
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel

from .. import freezes
from ..models import Freeze


class AppealSerializer(serializers.Serializer):
    status = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decision_reason = serializers.CharField(read_only=True)


class FreezeSerializer(serializers.ModelSerializer):
    appeal = serializers.SerializerMethodField()
    can_appeal = serializers.SerializerMethodField()

    class Meta:
        model = Freeze
        fields = ["id", "amount_fen", "held_fen", "reason", "note", "outcome", "state", "appeal_deadline",
                  "created_at", "closed_at", "close_reason", "can_appeal", "appeal"]

    @extend_schema(responses=AppealSerializer(allow_null=True))
    def get_appeal(self, freeze) -> dict | None:
        appeal = getattr(freeze, "appeal", None)
        return AppealSerializer(appeal).data if appeal else None

    def get_can_appeal(self, freeze) -> bool:
        return freezes.can_appeal(freeze)


class AppealSubmitSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=freezes.MAX_TEXT)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=freezes.MAX_FILES)


class FreezeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's fund freezes (资金冻结): amount, reason (a ground of clause 5.4), deadline and state."""

    serializer_class = FreezeSerializer
    queryset = Freeze.objects.none()
    filterset_fields = ["state", "reason", "outcome"]
    ordering_fields = ["id", "created_at", "amount_fen", "appeal_deadline"]
    ordering = ("-id",)
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return freezes.freezes_of(self.request.user)

    @extend_schema(request=AppealSubmitSerializer,
                   responses={201: FreezeSerializer, **error_responses(400, 404, 409)})
    @action(detail=True, methods=["post"])
    def appeal(self, request: Request, pk: str) -> Response:
        """Appeal a freeze (申诉), once, before its deadline: an explanation and up to 5 files (multipart)."""
        freeze = self.get_object()
        body = validated(AppealSubmitSerializer, request.data)
        try:
            uploads = [freezes.upload_from(f) for f in body.get("files", [])]
            freezes.submit_appeal(freeze=freeze, customer=request.user, text=body["text"], files=uploads,
                                  channel=Channel.API, ip=client_ip(request))
        except freezes.FreezeRefused as exc:
            error = ApiError if exc.field else Conflict
            raise error(exc.message, code=exc.code, field=exc.field) from exc
        return Response(FreezeSerializer(self.get_queryset().get(pk=freeze.pk)).data, status=status.HTTP_201_CREATED)
