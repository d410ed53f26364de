"""Withdrawals API: bank accounts (shown masked), withdrawals (提现) list/create/retrieve/cancel. Creating a
withdrawal needs an Idempotency-Key and a step-up code in the body (an API key alone is not enough)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.api.errors import ApiError, Conflict
from wuji.api.step_up import StepUpFields, step_up_factor
from wuji.api.views import IDEMPOTENCY_PARAMETER, client_ip, error_responses, idempotency_key, validated
from wuji.audit.choices import Channel

from .. import withdrawals
from ..models import BankAccount, Refund, Withdrawal
from .filtersets import WithdrawalFilterSet


class BankAccountSerializer(serializers.ModelSerializer):
    masked = serializers.CharField(read_only=True)

    class Meta:
        model = BankAccount
        fields = ["id", "masked", "number_last4", "created_at"]


class BankAccountCreateSerializer(serializers.Serializer):
    holder = serializers.CharField(max_length=100)
    bank = serializers.CharField(max_length=50)
    branch = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=40)


class RefundLegSerializer(serializers.ModelSerializer):
    bank_payout = serializers.BooleanField(source="is_bank_payout", read_only=True)

    class Meta:
        model = Refund
        fields = ["refund_no", "channel", "amount_fen", "status", "bank_payout", "completed_at"]


class WithdrawalSerializer(serializers.ModelSerializer):
    refunds = RefundLegSerializer(many=True, read_only=True)
    bank_account = serializers.SerializerMethodField()

    class Meta:
        model = Withdrawal
        fields = ["id", "amount_fen", "fee_fen", "status", "created_at", "decided_at", "decision_reason",
                  "completed_at", "bank_account", "refunds"]

    def get_bank_account(self, withdrawal) -> str | None:
        return withdrawal.bank_account.masked if withdrawal.bank_account_id else None


class WithdrawalCreateSerializer(StepUpFields):
    amount_fen = serializers.IntegerField(min_value=1)
    bank_account = serializers.IntegerField(required=False, allow_null=True)


def _refused(exc: withdrawals.WithdrawalRefused):
    error = ApiError if exc.field else Conflict
    return error(exc.message, code=exc.code, field=exc.field)


class BankAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                         viewsets.GenericViewSet):
    """The caller's bank accounts for payouts (stored encrypted; only the last four digits are shown)."""

    serializer_class = BankAccountSerializer
    queryset = BankAccount.objects.none()
    ordering_fields = ["id", "created_at"]
    ordering = ("-id",)

    def get_queryset(self):
        return withdrawals.bank_accounts_of(self.request.user)

    @extend_schema(request=BankAccountCreateSerializer, responses={201: BankAccountSerializer,
                                                                    **error_responses(400)})
    def create(self, request: Request) -> Response:
        """Add a bank account; the holder must be the account's verified real name."""
        body = validated(BankAccountCreateSerializer, request.data)
        try:
            account = withdrawals.add_bank_account(customer=request.user, channel=Channel.API, ip=client_ip(request),
                                                   **body)
        except withdrawals.WithdrawalRefused as exc:
            raise _refused(exc) from exc
        return Response(BankAccountSerializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **error_responses(404, 409)})
    def destroy(self, request: Request, pk: str) -> Response:
        account = self.get_object()
        try:
            withdrawals.remove_bank_account(account, actor=request.user, channel=Channel.API, ip=client_ip(request))
        except withdrawals.WithdrawalRefused as exc:
            raise _refused(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class WithdrawalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's withdrawals (提现) with their refund legs (原路退回 or bank payout) and statuses."""

    serializer_class = WithdrawalSerializer
    queryset = Withdrawal.objects.none()
    filterset_class = WithdrawalFilterSet
    ordering_fields = ["id", "created_at", "amount_fen"]
    ordering = ("-id",)

    def get_queryset(self):
        return withdrawals.withdrawals_of(self.request.user).select_related("bank_account").prefetch_related(
            "refunds")

    @extend_schema(request=WithdrawalCreateSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: WithdrawalSerializer, **error_responses(400, 403, 409)})
    def create(self, request: Request) -> Response:
        """Withdraw cash (gift credit is never withdrawable). Needs step-up verification in the body."""
        key = idempotency_key(request)
        body = validated(WithdrawalCreateSerializer, request.data)
        existing = withdrawals.withdrawals_of(request.user).filter(idempotency_key=key).first()
        if existing is not None:
            return Response(WithdrawalSerializer(existing).data, status=status.HTTP_201_CREATED)
        bank_account = None
        if body.get("bank_account") is not None:
            bank_account = withdrawals.bank_accounts_of(request.user).filter(pk=body["bank_account"]).first()
            if bank_account is None:
                raise ApiError(_not_found_message(), code="invalid", field="bank_account")
        factor = step_up_factor(request, body, "withdrawal")
        try:
            withdrawal = withdrawals.request_withdrawal(
                customer=request.user, amount_fen=body["amount_fen"], bank_account=bank_account, idempotency_key=key,
                factor=factor, channel=Channel.API, ip=client_ip(request))
        except withdrawals.WithdrawalRefused as exc:
            raise _refused(exc) from exc
        return Response(WithdrawalSerializer(self.get_queryset().get(pk=withdrawal.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: WithdrawalSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel a withdrawal still awaiting approval; the money goes back to cash."""
        withdrawal = self.get_object()
        try:
            withdrawals.cancel_withdrawal(withdrawal, actor=request.user, channel=Channel.API, ip=client_ip(request))
        except withdrawals.WithdrawalRefused as exc:
            raise _refused(exc) from exc
        return Response(WithdrawalSerializer(self.get_queryset().get(pk=withdrawal.pk)).data)


def _not_found_message() -> str:
    from django.utils.translation import gettext as _

    return _("没有找到该银行账户。")
