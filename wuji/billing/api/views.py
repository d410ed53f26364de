"""Prepaid subscriptions over the API: list, renew, auto-renew, plan change (quote and confirm)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.api.errors import Conflict, PaymentRequired, UnprocessableEntity
from wuji.api.views import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_PARAMETER,
    client_ip,
    error_responses,
    idempotency_key,
    validated,
)
from wuji.audit.choices import Channel

from .. import renewals
from ..models import Subscription
from . import serializers as s


def refusal(exc: renewals.RenewalRefused):
    if isinstance(exc, renewals.InsufficientBalance):
        return PaymentRequired(str(exc))
    if exc.code == "cycles_invalid":
        return UnprocessableEntity(str(exc), code=exc.code, field="cycles")
    if exc.code == "expected_period_end_invalid":
        return UnprocessableEntity(str(exc), code=exc.code, field="expected_period_end")
    return Conflict(str(exc), code=exc.code)


def _replay_mismatch(charge, expected: dict) -> None:
    """A replayed key must carry the request it was first used for."""
    if any(getattr(charge, field) != value for field, value in expected.items()):
        raise UnprocessableEntity(renewals.key_reused_message(charge), code="idempotency_key_reused",
                                  field=IDEMPOTENCY_HEADER)


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Prepaid subscriptions (包年包月): one per prepaid server, with its paid period and renewal settings."""

    serializer_class = s.SubscriptionSerializer
    queryset = Subscription.objects.none()
    filterset_fields = ["state", "cycle", "auto_renew"]
    ordering_fields = ["id", "created_at", "period_end"]
    ordering = ("-id",)

    def get_queryset(self):
        return renewals.subscriptions_of(self.request.user)

    @extend_schema(request=s.RenewSerializer, parameters=[IDEMPOTENCY_PARAMETER], responses={
        201: s.SubscriptionChargeSerializer,
        200: OpenApiResponse(s.SubscriptionChargeSerializer, description="this period was already renewed (or the "
                                                                          "key replayed): the first renewal"),
        **error_responses(400, 402, 409, 422)})
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk=None) -> Response:
        """Renew for N cycles from the current period end, charged from the balance. Exactly once per period."""
        sub = self.get_object()
        key = idempotency_key(request)
        body = validated(s.RenewSerializer, request.data)
        try:
            result = renewals.renew(sub, cycles=body["cycles"], expected_period_end=body["expected_period_end"],
                                    actor=request.user, channel=Channel.API, ip=client_ip(request), request_key=key)
        except renewals.RenewalRefused as exc:
            raise refusal(exc) from exc
        if result.replayed and result.charge.request_key == key:
            _replay_mismatch(result.charge, {"kind": "renewal", "cycles": body["cycles"]})
        data = s.SubscriptionChargeSerializer(result.charge).data
        if result.replayed:
            return Response(data, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AutoRenewSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={200: s.SubscriptionSerializer, **error_responses(400, 409)})
    @action(detail=True, methods=["post"], url_path="auto-renew")
    def auto_renew(self, request: Request, pk=None) -> Response:
        """Switch auto-renewal on or off (setting the same value again changes nothing)."""
        sub = self.get_object()
        idempotency_key(request)
        body = validated(s.AutoRenewSerializer, request.data)
        try:
            sub = renewals.set_auto_renew(sub, enabled=body["enabled"], actor=request.user, channel=Channel.API,
                                          ip=client_ip(request))
        except renewals.RenewalRefused as exc:
            raise refusal(exc) from exc
        return Response(s.SubscriptionSerializer(sub).data)

    @extend_schema(request=s.ChangePlanQuoteSerializer,
                   responses={200: s.ChangeQuoteSerializer, **error_responses(400, 409)})
    @action(detail=True, methods=["post"], url_path="change-plan/quote")
    def change_plan_quote(self, request: Request, pk=None) -> Response:
        """Price a plan change now: the prorated difference for the rest of the paid term (nothing is written)."""
        sub = self.get_object()
        body = validated(s.ChangePlanQuoteSerializer, request.data)
        try:
            quote = renewals.quote_change(sub, body["plan"])
        except renewals.RenewalRefused as exc:
            raise refusal(exc) from exc
        return Response(s.ChangeQuoteSerializer({
            "plan": quote.plan.code, "old_price_fen": quote.old_price_fen, "new_price_fen": quote.new_price_fen,
            "remaining_cycles": str(quote.remaining), "amount_fen": quote.amount_fen, "amount_yuan": quote.amount_fen,
            "kind": quote.kind}).data)

    @extend_schema(request=s.ChangePlanSerializer, parameters=[IDEMPOTENCY_PARAMETER], responses={
        201: s.SubscriptionChargeSerializer,
        200: OpenApiResponse(s.SubscriptionChargeSerializer, description="replay of the key: the first change"),
        **error_responses(400, 402, 409, 422)})
    @action(detail=True, methods=["post"], url_path="change-plan")
    def change_plan(self, request: Request, pk=None) -> Response:
        """Change the plan of a stopped server: an upgrade charges, a downgrade refunds the prorated difference."""
        sub = self.get_object()
        key = idempotency_key(request)
        body = validated(s.ChangePlanSerializer, request.data)
        try:
            charge, replayed = renewals.change_plan(sub, body["plan"], actor=request.user, channel=Channel.API,
                                                    ip=client_ip(request), request_key=key,
                                                    expected_amount=body["expected_amount_fen"])
        except renewals.RenewalRefused as exc:
            raise refusal(exc) from exc
        data = s.SubscriptionChargeSerializer(charge).data
        if replayed:
            _replay_mismatch(charge, {"plan_after_id": body["plan"].pk})
            return Response(data, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})
        return Response(data, status=status.HTTP_201_CREATED)
