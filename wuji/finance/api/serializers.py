"""Finance API representations. Amounts are integer fen with a yuan display string; bank account numbers are
only ever shown masked."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wuji.api.serializers import YuanField

from ..choices import ContractStatus, FapiaoMedium, FapiaoStatus, FapiaoType, TitleKind
from ..models import Contract, FapiaoApplication

_FIELD_CLASSES: dict[str, type] = {}


def enum_field(choice_set, component_name: str, **kwargs):
    """A choice field with its own schema component (one class per component), so finance enums never collide
    with other apps' enums named Status or Type."""
    if component_name not in _FIELD_CLASSES:
        _FIELD_CLASSES[component_name] = extend_schema_field(
            {"type": "string", "enum": choice_set.values()}, component_name=component_name,
        )(type(component_name, (serializers.ChoiceField,), {}))
    return _FIELD_CLASSES[component_name](choices=choice_set.choices(), **kwargs)


class TitleSerializer(serializers.Serializer):
    kind = enum_field(TitleKind, "FapiaoTitleKindEnum", help_text="individual or enterprise")
    name = serializers.CharField(help_text="the verified name: the fapiao title (抬头)")
    taxpayer_id = serializers.CharField(help_text="unified social credit code (enterprises); empty for individuals")
    general_taxpayer = serializers.BooleanField(help_text="confirmed by staff as 一般纳税人: may receive 专票")
    allowed_types = serializers.ListField(child=enum_field(FapiaoType, "FapiaoTypeEnum"))


class InvoiceableSerializer(serializers.Serializer):
    consumed_fen = serializers.IntegerField(help_text="cash consumed, net of refunds (gift consumption excluded)")
    issued_fen = serializers.IntegerField()
    pending_fen = serializers.IntegerField()
    invoiceable_fen = serializers.IntegerField(help_text="可开票金额; negative when refunds left invoice debt")
    invoiceable_yuan = YuanField(source="invoiceable_fen")
    debt_fen = serializers.IntegerField(help_text="欠票: issued fapiao above net cash consumption (≥ 0)")
    title = TitleSerializer(allow_null=True, help_text="null until the account is real-name verified")


class FapiaoSerializer(serializers.ModelSerializer):
    status = enum_field(FapiaoStatus, "FapiaoStatusEnum", read_only=True)
    fapiao_type = enum_field(FapiaoType, "FapiaoTypeEnum", read_only=True)
    medium = enum_field(FapiaoMedium, "FapiaoMediumEnum", read_only=True)
    amount_yuan = YuanField(source="amount_fen")
    has_pdf = serializers.SerializerMethodField()

    class Meta:
        model = FapiaoApplication
        fields = ["id", "status", "fapiao_type", "medium", "amount_fen", "amount_yuan", "title_name", "taxpayer_id",
                  "registered_address", "registered_phone", "bank_name", "bank_account_masked", "email",
                  "mailing_address", "applied_at", "reject_reason", "fapiao_number", "issued_on", "red_number",
                  "reversed_at", "has_pdf"]

    def get_has_pdf(self, obj) -> bool:
        return bool(obj.pdf)


class FapiaoCreateSerializer(serializers.Serializer):
    amount_fen = serializers.IntegerField(min_value=1)
    fapiao_type = enum_field(FapiaoType, "FapiaoTypeEnum", default=FapiaoType.NORMAL)
    medium = enum_field(FapiaoMedium, "FapiaoMediumEnum", default=FapiaoMedium.ELECTRONIC)
    email = serializers.CharField(required=False, allow_blank=True, default="", help_text="default: account e-mail")
    mailing_address = serializers.CharField(required=False, allow_blank=True, default="",
                                            help_text="required for paper fapiao")
    registered_address = serializers.CharField(required=False, allow_blank=True, default="", help_text="专票 only")
    registered_phone = serializers.CharField(required=False, allow_blank=True, default="", help_text="专票 only")
    bank_name = serializers.CharField(required=False, allow_blank=True, default="", help_text="专票 only")
    bank_account = serializers.CharField(required=False, allow_blank=True, default="", write_only=True,
                                         help_text="专票 only; stored encrypted, returned masked")


class ContractSerializer(serializers.ModelSerializer):
    status = enum_field(ContractStatus, "ContractStatusEnum", read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "order", "status", "number", "party_name", "agreement_version", "applied_at", "reviewed_at",
                  "reject_reason"]


class ContractCreateSerializer(serializers.Serializer):
    order = serializers.IntegerField(help_text="the id of one of your orders")
