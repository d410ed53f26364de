from rest_framework import serializers

from ..choices import OPTIONAL_CHANNELS, NoticeKind
from ..models import Notice


class NoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = ["id", "event", "kind", "subject", "body", "mandatory", "created_at", "read_at"]


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NoticeKind.choices())
    channel = serializers.ChoiceField(choices=list(OPTIONAL_CHANNELS))
    enabled = serializers.BooleanField()
    switchable = serializers.BooleanField(read_only=True)


class PreferencesSerializer(serializers.Serializer):
    preferences = PreferenceSerializer(many=True)


class ConsentSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    text_version = serializers.CharField(max_length=32, required=False)
    recorded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    current_text_version = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
