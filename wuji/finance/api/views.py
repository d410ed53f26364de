"""Finance API: the invoiceable amount and title, fapiao applications (list, apply, cancel, PDF) and contracts
(list, apply, PDF). Querysets are the caller's own: someone else's application or contract is 404."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.errors import Conflict
from wuji.api.views import IDEMPOTENCY_PARAMETER, client_ip, error_responses, idempotency_key, validated
from wuji.audit.choices import Channel
from wuji.billing import services as billing

from .. import services
from ..choices import ContractStatus, FapiaoStatus
from ..models import Contract, FapiaoApplication
from . import serializers as s
from .filtersets import FapiaoFilterSet

API_FIELD = {"__all__": "non_field_errors", "amount": "amount_fen"}  # service field names → API input names


def _field_errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError({API_FIELD.get(k, k): v for k, v in exc.message_dict.items()})


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def invoiceable_data(user) -> dict:
    state = services.summary(user)
    title = services.title_of(user)
    return {
        "consumed_fen": state.consumed_fen, "issued_fen": state.issued_fen, "pending_fen": state.pending_fen,
        "invoiceable_fen": state.invoiceable_fen, "debt_fen": state.debt_fen,
        "title": None if title is None else {
            "kind": title.kind, "name": title.name, "taxpayer_id": title.taxpayer_id,
            "general_taxpayer": title.general_taxpayer is not None, "allowed_types": title.allowed_types},
    }


class InvoiceableView(APIView):
    @extend_schema(responses=s.InvoiceableSerializer)
    def get(self, request: Request) -> Response:
        """可开票金额: cash consumed − refunds − issued and pending fapiao (+ red reversals), the invoice debt
        (欠票) and the title (抬头) fapiao will carry."""
        return Response(s.InvoiceableSerializer(invoiceable_data(request.user)).data)


class FapiaoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Fapiao applications (发票申请), newest first."""

    serializer_class = s.FapiaoSerializer
    queryset = FapiaoApplication.objects.none()
    filterset_class = FapiaoFilterSet
    ordering_fields = ["applied_at", "amount_fen"]
    ordering = ("-applied_at", "-id")

    def get_queryset(self):
        return services.applications_of(self.request.user)

    @extend_schema(request=s.FapiaoCreateSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: s.FapiaoSerializer,
                              200: OpenApiResponse(s.FapiaoSerializer, description="replay of the key: the first one"),
                              **error_responses(400)})
    def create(self, request: Request) -> Response:
        """Apply for a fapiao of `amount_fen` (≤ the invoiceable amount). A retry with the same Idempotency-Key
        returns the first application (200, header Idempotent-Replayed)."""
        key = idempotency_key(request)
        body = validated(s.FapiaoCreateSerializer, request.data)
        first = self.get_queryset().filter(idempotency_key=key).first()
        if first is not None:
            return Response(self.get_serializer(first).data, headers={"Idempotent-Replayed": "true"})
        try:
            application = services.apply_for_fapiao(request.user, **body, idempotency_key=key,
                                                    channel=Channel.API, ip=client_ip(request))
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(self.get_serializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.FapiaoSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Withdraw a pending application; its amount is invoiceable again."""
        application = self.get_object()
        try:
            services.cancel_application(application, request.user, channel=Channel.API, ip=client_ip(request))
        except services.FinanceRefused as exc:
            raise Conflict(str(exc), code=exc.code) from exc
        return Response(self.get_serializer(application).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(404)})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        """The issued fapiao's PDF (数电票)."""
        application = self.get_object()
        if application.status not in (FapiaoStatus.ISSUED, FapiaoStatus.REVERSED) or not application.pdf:
            raise NotFound()
        return _pdf(services.fapiao_pdf(application), f"fapiao-{application.fapiao_number}.pdf")


class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contracts (合同) for your orders, newest first."""

    serializer_class = s.ContractSerializer
    queryset = Contract.objects.none()
    filterset_fields = ["status"]
    ordering_fields = ["applied_at"]
    ordering = ("-applied_at", "-id")

    def get_queryset(self):
        return services.contracts_of(self.request.user)

    @extend_schema(request=s.ContractCreateSerializer, responses={201: s.ContractSerializer, **error_responses(400)})
    def create(self, request: Request) -> Response:
        """Apply for a contract for one of your orders; staff review it, then the PDF can be downloaded."""
        body = validated(s.ContractCreateSerializer, request.data)
        order = billing.orders_of(request.user).filter(pk=body["order"]).first()
        if order is None:
            raise ValidationError({"order": [_("订单不存在。")]})
        try:
            contract = services.apply_for_contract(request.user, order=order, channel=Channel.API,
                                                   ip=client_ip(request))
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(self.get_serializer(contract).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(404)})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        """The generated contract PDF (after approval)."""
        contract = self.get_object()
        if contract.status != ContractStatus.APPROVED:
            raise NotFound()
        return _pdf(services.contract_pdf(contract), f"{contract.number}.pdf")
