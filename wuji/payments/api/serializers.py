from django.conf import settings
from rest_framework import serializers

from wuji.api.serializers import YuanField
from wuji.payments.models import BankTransfer

from .. import services


class BankTransferSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    amount_yuan = YuanField(source="amount_fen")
    received_yuan = YuanField(source="received_fen", allow_null=True)
    has_receipt = serializers.SerializerMethodField()

    class Meta:
        model = BankTransfer
        fields = ["id", "number", "amount_fen", "amount_yuan", "payer_name", "payer_bank", "transfer_date", "reference",
                  "status", "received_fen", "received_yuan", "reason", "has_receipt", "created_at", "reviewed_at"]

    def get_has_receipt(self, transfer: BankTransfer) -> bool:
        return bool(transfer.receipt)


class BankTransferCreateSerializer(serializers.Serializer):
    amount_fen = serializers.IntegerField(min_value=services.MIN_TOPUP_FEN, max_value=services.MAX_TOPUP_FEN)
    payer_name = serializers.CharField(max_length=100)
    payer_bank = serializers.CharField(max_length=100)
    transfer_date = serializers.DateField()
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    receipt = serializers.FileField(required=False, allow_null=True, help_text="PDF, PNG or JPEG (multipart)")

    def validate_receipt(self, value):
        if value is not None and value.size > settings.WUJI_BANK_RECEIPT_MAX_BYTES:
            raise serializers.ValidationError("too large")
        return value


class PlatformBankAccountSerializer(serializers.Serializer):
    """Our own account that customers transfer to (对公转账收款账户)."""

    name = serializers.CharField()
    number = serializers.CharField()
    bank = serializers.CharField()
