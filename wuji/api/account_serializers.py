"""Representations for the account and security reads of issue 7's coverage (decision 0044): API keys,
function restrictions, the security overview and ending sessions."""

from rest_framework import serializers

from wuji.accounts.choices import ContactKind, RestrictedFunction
from wuji.accounts.contact_models import ContactFlag
from wuji.accounts.restriction_models import AccountRestriction
from wuji.api.models import ApiKey


class ApiKeySerializer(serializers.ModelSerializer):
    """An API key as its owner sees it: never the secret (it is shown once, in the portal, at creation)."""

    is_active = serializers.BooleanField(read_only=True, help_text="false once revoked")

    class Meta:
        model = ApiKey
        fields = ["id", "key_id", "name", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class AccountRestrictionSerializer(serializers.ModelSerializer):
    """One account function restricted by staff (clause 4.5.2.2), with the reason the customer is shown."""

    function = serializers.ChoiceField(choices=RestrictedFunction.choices(), read_only=True)
    function_label = serializers.SerializerMethodField(help_text="the function, in the caller's language")

    class Meta:
        model = AccountRestriction
        fields = ["id", "function", "function_label", "reason", "imposed_at"]
        read_only_fields = fields

    def get_function_label(self, obj: AccountRestriction) -> str:
        return str(RestrictedFunction.label(obj.function))


class AccountContactFlagSerializer(serializers.ModelSerializer):
    """A contact staff found invalid (clause 4.5.1), still to be corrected by `deadline`."""

    contact = serializers.ChoiceField(choices=ContactKind.choices(), read_only=True)

    class Meta:
        model = ContactFlag
        fields = ["id", "contact", "value_masked", "reason", "created_at", "deadline", "restricted_at"]
        read_only_fields = fields


class MfaMethodsSerializer(serializers.Serializer):
    totp = serializers.BooleanField(help_text="an authenticator app (TOTP) is set up")
    webauthn = serializers.BooleanField(help_text="a security key or passkey is set up")
    recovery_codes = serializers.BooleanField(help_text="recovery codes exist")


class SecurityQuestionStateSerializer(serializers.Serializer):
    question = serializers.CharField()
    updated_at = serializers.DateTimeField()


class LinkedAccountSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text="e.g. github, weixin, qq")
    linked_at = serializers.DateTimeField(source="date_joined")


class SecurityOverviewSerializer(serializers.Serializer):
    """What the portal's "account and security" page shows. Enrolment, contact changes and the security
    question are changed only in the portal (decision 0044)."""

    email = serializers.EmailField()
    phone_masked = serializers.CharField(allow_null=True)
    mfa = MfaMethodsSerializer()
    security_question = SecurityQuestionStateSerializer(allow_null=True, help_text="never the answer")
    linked_accounts = LinkedAccountSerializer(many=True)
    contact_flags = AccountContactFlagSerializer(many=True, help_text="contacts to correct (unresolved flags)")
    restrictions = AccountRestrictionSerializer(many=True, help_text="account functions restricted now")
    session_count = serializers.IntegerField(help_text="signed-in portal sessions")


class SessionsEndedSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="how many portal sessions were ended")
