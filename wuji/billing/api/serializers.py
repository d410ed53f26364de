"""API representations of prepaid subscriptions. Money in fen (`*_fen`) with a yuan string (`*_yuan`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from wuji.api.serializers import YuanField, code_field
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle

from ..models import Subscription, SubscriptionCharge


class SubscriptionSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    cycle = serializers.ChoiceField(choices=BillingCycle.choices(), read_only=True)
    price_yuan = YuanField(source="price_fen")

    class Meta:
        model = Subscription
        fields = ["id", "server", "order", "region", "plan", "cycle", "price_fen", "price_yuan", "period_start",
                  "period_end", "auto_renew", "state", "expired_at", "released_at", "created_at"]


class SubscriptionChargeSerializer(serializers.ModelSerializer):
    plan_before = serializers.SlugRelatedField(slug_field="code", read_only=True)
    plan_after = serializers.SlugRelatedField(slug_field="code", read_only=True)
    amount_yuan = YuanField(source="amount_fen")

    class Meta:
        model = SubscriptionCharge
        fields = ["id", "subscription", "kind", "cycles", "amount_fen", "amount_yuan", "cash_fen", "gift_fen",
                  "period_end_before", "period_end_after", "plan_before", "plan_after", "created_at"]


class RenewSerializer(serializers.Serializer):
    cycles = serializers.IntegerField(min_value=1, help_text="how many billing cycles to add")
    expected_period_end = serializers.DateTimeField(
        help_text="the period end the customer saw; a renewal already made for it is returned instead")


class AutoRenewSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class ChangePlanQuoteSerializer(serializers.Serializer):
    plan = code_field(catalog.plans(), _("没有这个配置。"))


class ChangePlanSerializer(ChangePlanQuoteSerializer):
    expected_amount_fen = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text="the quoted amount the customer confirmed (negative: a refund); an upgrade is never charged more")


class ChangeQuoteSerializer(serializers.Serializer):
    plan = serializers.CharField()
    old_price_fen = serializers.IntegerField()
    new_price_fen = serializers.IntegerField()
    remaining_cycles = serializers.CharField(help_text="exact fraction of cycles left, e.g. '4/3'")
    amount_fen = serializers.IntegerField(help_text="> 0 charged (upgrade), < 0 refunded (downgrade)")
    amount_yuan = YuanField()
    kind = serializers.CharField()
