"""Bank transfers (对公转账) in the API: declare one, list and read your own, and read our account details."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.api.errors import ApiError
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel
from wuji.payments import gateways
from wuji.payments.choices import PaymentChannel
from wuji.payments.models import BankTransfer

from .. import services
from . import serializers as s
from .filtersets import BankTransferFilterSet


class BankTransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bank transfers you declared. Finance confirms what actually arrived; that amount is credited once."""

    serializer_class = s.BankTransferSerializer
    queryset = BankTransfer.objects.none()
    filterset_class = BankTransferFilterSet
    ordering_fields = ["id", "created_at", "amount_fen", "transfer_date"]
    ordering = ("-id",)
    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return services.bank_transfers_of(self.request.user)

    def _require_enabled(self):
        if not gateways.get(PaymentChannel.BANK).enabled():
            raise NotFound()

    @extend_schema(request=s.BankTransferCreateSerializer, responses={201: s.BankTransferSerializer,
                                                                      **error_responses(400, 404)})
    def create(self, request: Request) -> Response:
        """Declare a transfer you made to our account (optionally with the bank receipt, multipart)."""
        self._require_enabled()
        body = validated(s.BankTransferCreateSerializer, request.data)
        receipt = body.get("receipt")
        try:
            transfer = services.declare_bank_transfer(
                customer=request.user, amount_fen=body["amount_fen"], payer_name=body["payer_name"],
                payer_bank=body["payer_bank"], transfer_date=body["transfer_date"], reference=body["reference"],
                receipt=receipt.read() if receipt else None, ip=client_ip(request), via=Channel.API)
        except services.PaymentError as exc:
            raise ApiError(str(exc), code="bank_transfer_refused", field=exc.field) from exc
        return Response(self.get_serializer(transfer).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.PlatformBankAccountSerializer, **error_responses(404)})
    @action(detail=False, methods=["get"])
    def account(self, request: Request) -> Response:
        """Our receiving account: transfer to it, then declare the transfer."""
        self._require_enabled()
        return Response(s.PlatformBankAccountSerializer(services.bank_account()).data)
