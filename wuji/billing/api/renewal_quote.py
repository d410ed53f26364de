"""What renewing a subscription would charge now (issue 7 coverage, decision 0044): the portal's renew page shows
it before the customer confirms; the API's renew takes the same `expected_period_end` this returns."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.serializers import YuanField
from wuji.api.views import error_responses, validated
from wuji.billing import renewals


class RenewalQuoteQuerySerializer(serializers.Serializer):
    cycles = serializers.IntegerField(default=1, min_value=1, max_value=settings.WUJI_RENEW_MAX_CYCLES,
                                      help_text="how many billing cycles to renew for")


class RenewalQuoteSerializer(serializers.Serializer):
    subscription = serializers.IntegerField()
    cycle = serializers.CharField(help_text="the subscription's billing cycle")
    cycles = serializers.IntegerField()
    per_cycle_fen = serializers.IntegerField(
        help_text="the recorded price, or the price in force if lower (a price cut reaches renewals, a rise not)")
    amount_fen = serializers.IntegerField()
    amount_yuan = YuanField(source="amount_fen")
    expected_period_end = serializers.DateTimeField(help_text="send it back with POST …/renew/")
    max_cycles = serializers.IntegerField()


class RenewalQuoteView(APIView):
    @extend_schema(parameters=[RenewalQuoteQuerySerializer],
                   responses={200: RenewalQuoteSerializer, **error_responses(400, 404)})
    def get(self, request: Request, pk: int) -> Response:
        """The price of renewing this subscription for `cycles` cycles now (续费报价); nothing is charged."""
        sub = get_object_or_404(renewals.subscriptions_of(request.user), pk=pk)
        cycles = validated(RenewalQuoteQuerySerializer, request.query_params)["cycles"]
        _price, per_cycle = renewals.renewal_price(sub)
        return Response(RenewalQuoteSerializer({
            "subscription": sub.pk, "cycle": sub.cycle, "cycles": cycles, "per_cycle_fen": per_cycle,
            "amount_fen": per_cycle * cycles, "expected_period_end": sub.period_end,
            "max_cycles": settings.WUJI_RENEW_MAX_CYCLES}).data)
