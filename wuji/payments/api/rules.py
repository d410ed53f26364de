"""The withdrawal rules over the API (issue 7 coverage, decision 0044): the limits, fees and approval mode the
portal's withdrawal page states, and what the caller may withdraw now — before a request is refused for them."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.payments import withdrawals


class WithdrawalRulesSerializer(serializers.Serializer):
    min_fen = serializers.IntegerField(help_text="smallest withdrawal")
    max_fen = serializers.IntegerField(help_text="largest single withdrawal")
    count_limit = serializers.IntegerField(help_text="withdrawals allowed per period")
    period_days = serializers.IntegerField()
    fee_fixed_fen = serializers.IntegerField(help_text="fixed fee per withdrawal")
    fee_bps = serializers.IntegerField(help_text="proportional fee, in basis points of the amount")
    approval = serializers.ChoiceField(choices=["manual", "auto"],
                                       help_text="manual: finance approves each; auto: up to auto_max_fen at once")
    auto_max_fen = serializers.IntegerField()
    withdrawable_fen = serializers.IntegerField(help_text="the caller's cash balance (gift credit never is)")


class WithdrawalRulesView(APIView):
    @extend_schema(responses=WithdrawalRulesSerializer)
    def get(self, request: Request) -> Response:
        """Withdrawal limits, fees and approval mode (提现规则), and the caller's withdrawable cash."""
        data = {**withdrawals.rules(), "withdrawable_fen": withdrawals.withdrawable_fen(request.user)}
        return Response(WithdrawalRulesSerializer(data).data)
