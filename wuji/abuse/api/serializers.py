import base64
import binascii

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .. import services
from ..choices import CaseCategory
from ..models import Case, CaseAction, CaseMessage


class Base64FileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    content_base64 = serializers.CharField()

    def validate(self, attrs):
        try:
            data = base64.b64decode(attrs["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError({"content_base64": _("文件内容不是有效的 Base64。")}) from None
        return services.Upload(name=attrs["name"], data=data)


class ComplaintInSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=CaseCategory.choices())
    target = serializers.CharField(max_length=500)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    description = serializers.CharField(max_length=services.MAX_TEXT)
    reporter_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reporter_email = serializers.CharField(max_length=254)
    reporter_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    evidence = Base64FileSerializer(many=True, required=False)
    files = serializers.ListField(child=serializers.FileField(), required=False)


class ComplaintOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()


class CaseMessageSerializer(serializers.ModelSerializer):
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = CaseMessage
        fields = ["id", "from_owner", "text", "created_at", "attachments"]

    def get_attachments(self, message) -> list[str]:
        return [f.name for f in message.attachments.all()]


class CaseActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseAction
        fields = ["kind", "reason", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    server = serializers.IntegerField(source="server_id", allow_null=True)
    status = serializers.CharField(read_only=True, help_text="new, triaged, waiting, actioned, closed or rejected")

    class Meta:
        model = Case
        fields = ["id", "number", "category", "target", "target_kind", "server", "status", "owner_deadline",
                  "created_at", "closed_at", "close_note"]


class CaseDetailSerializer(CaseSerializer):
    messages = serializers.SerializerMethodField()
    actions = CaseActionSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "messages", "actions"]

    def get_messages(self, case) -> list[dict]:
        return CaseMessageSerializer(services.visible_messages(case), many=True).data


class CaseReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=services.MAX_TEXT)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=services.MAX_FILES)
