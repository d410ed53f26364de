"""Identity API representations: status with the masked number only — the API never returns a full number."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import VerificationKind, VerificationStatus


@extend_schema_field({"type": "string", "enum": VerificationKind.values(), "nullable": True},
                     component_name="VerificationKindEnum")
class KindField(serializers.CharField):
    """One enum component for both kind fields (the schema must not name one choice set twice)."""


class IdentityStatusSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    status = serializers.ChoiceField(choices=[*VerificationStatus.values(), "none"],
                                     help_text="approved, pending, rejected or none")
    kind = KindField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    masked_number = serializers.CharField(allow_null=True, help_text="e.g. 1101**********1233")
    submitted_at = serializers.DateTimeField(allow_null=True)
    pending_kind = KindField(allow_null=True, help_text="an application under review, if any")
    rejection_reason = serializers.CharField(allow_null=True)
    restricted = serializers.BooleanField()
    correction_deadline = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def from_state(state) -> dict:
        shown = state.shown
        latest = state.latest
        return {
            "verified": state.verified,
            "status": state.status,
            "kind": shown.kind if shown else None,
            "name": shown.name if shown else None,
            "masked_number": shown.number_masked if shown else None,
            "submitted_at": shown.submitted_at if shown else None,
            "pending_kind": state.pending.kind if state.pending else None,
            "rejection_reason": latest.reason if latest and latest.status == VerificationStatus.REJECTED else None,
            "restricted": state.restricted,
            "correction_deadline": state.flag.deadline if state.flag else None,
        }


class IndividualSubmitSerializer(serializers.Serializer):
    name = serializers.CharField(label=_("真实姓名"), max_length=50)
    id_number = serializers.CharField(label=_("身份证号码"), max_length=32)
    document = serializers.FileField(label=_("身份证人像面照片"), required=False)


class EnterpriseSubmitSerializer(serializers.Serializer):
    company_name = serializers.CharField(label=_("企业名称"), max_length=100)
    credit_code = serializers.CharField(label=_("统一社会信用代码"), max_length=32)
    legal_representative = serializers.CharField(label=_("法定代表人姓名"), max_length=50)
    document = serializers.FileField(label=_("营业执照"))
