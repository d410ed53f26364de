"""API: pay-as-you-go servers (按量付费). POST creates one (nothing charged up front); GET reads a meter."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.api import serializers as s
from wuji.api.errors import UnprocessableEntity
from wuji.api.views import IDEMPOTENCY_HEADER, client_ip, error_responses, idempotency_key, purchase_refusal, validated
from wuji.audit.choices import Channel
from wuji.billing import payg
from wuji.billing.models import Meter
from wuji.billing.services import PurchaseRefused
from wuji.catalog import services as catalog


class PaygCreateSerializer(serializers.Serializer):
    region = s.code_field(catalog.regions(), s.NO_SUCH_REGION)
    plan = s.code_field(catalog.plans(), s.NO_SUCH_PLAN)
    image = s.code_field(catalog.images(), s.NO_SUCH_IMAGE)
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class MeterSerializer(serializers.ModelSerializer):
    server = serializers.IntegerField(source="server_id")
    pending_fen = serializers.SerializerMethodField(help_text="usage not yet settled, rounded down to the fen")
    running_per_hour = serializers.CharField(help_text="元/hour, 8 decimal places")
    stopped_per_hour = serializers.CharField(help_text="元/hour, 8 decimal places")

    class Meta:
        model = Meter
        fields = ["server", "rate", "running_per_hour", "stopped_per_hour", "metered_until", "settled_until",
                  "pending_fen", "charged_fen", "debt_fen", "arrears_since", "suspended_at", "created_at"]

    def get_pending_fen(self, meter) -> int:
        return payg.pending_fen(meter)


class MeterCreatedSerializer(MeterSerializer):
    root_password = serializers.SerializerMethodField()

    class Meta(MeterSerializer.Meta):
        fields = [*MeterSerializer.Meta.fields, "root_password"]

    def get_root_password(self, meter) -> str | None:
        return self.context.get("root_password")


class PaygServerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pay-as-you-go meters of the caller's servers, looked up by server id."""

    serializer_class = MeterSerializer
    queryset = Meter.objects.none()
    lookup_field = "server_id"
    filterset_fields = ["rate"]
    ordering_fields = ["id", "created_at"]
    ordering = ("-id",)

    def get_queryset(self):
        return payg.meters_of(self.request.user)

    @extend_schema(request=PaygCreateSerializer, responses={
        201: OpenApiResponse(MeterCreatedSerializer, description="created; root_password shown this once"),
        200: OpenApiResponse(MeterCreatedSerializer, description="replay of the key"),
        **error_responses(400, 402, 409, 422)})
    def create(self, request: Request) -> Response:
        key = idempotency_key(request)
        body = validated(PaygCreateSerializer, request.data)
        try:
            meter, password = payg.place_payg_order(
                customer=request.user, region=body["region"], plan=body["plan"], image=body["image"],
                name=body["name"], idempotency_key=key, channel=Channel.API, ip=client_ip(request))
        except PurchaseRefused as exc:
            raise purchase_refusal(exc) from exc
        if password is None:
            server = meter.server
            if (server.region_id, server.plan_id) != (body["region"].pk, body["plan"].pk):
                raise UnprocessableEntity(_("该幂等键已用于另一台按量付费服务器，请为新的请求使用新的幂等键。"),
                                          code="idempotency_key_reused", field=IDEMPOTENCY_HEADER)
        data = MeterCreatedSerializer(meter, context={"root_password": password}).data
        return Response(data, status=status.HTTP_201_CREATED if password else status.HTTP_200_OK)
