from rest_framework import serializers

from ..models import AgreementVersion


class AgreementVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementVersion
        fields = ["version", "title", "body", "published_at", "effective_at"]


class AgreementStateSerializer(serializers.Serializer):
    current = AgreementVersionSerializer(allow_null=True)
    pending = AgreementVersionSerializer(allow_null=True)
    accepted = serializers.BooleanField(allow_null=True, help_text="whether the caller accepted the current "
                                                                   "version (null when not signed in)")


class AgreementAcceptSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=32, help_text="the version in force, as read from GET /agreement/")
