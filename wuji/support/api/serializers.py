from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from .. import services
from ..choices import TicketCategory, TicketPriority
from ..models import Ticket, TicketAttachment, TicketMessage


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = TicketAttachment
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]

    def get_url(self, attachment) -> str:
        return reverse("api:ticket-attachment", args=[attachment.ticket_id, attachment.pk],
                       request=self.context.get("request"))


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "by_staff", "body", "created_at", "attachments"]


class TicketSerializer(serializers.ModelSerializer):
    can_reply = serializers.SerializerMethodField()
    can_reopen = serializers.SerializerMethodField()
    can_rate = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = ["id", "subject", "category", "priority", "status", "server", "created_at", "updated_at",
                  "first_response_at", "resolved_at", "closed_at", "rating", "rating_comment", "rated_at",
                  "can_reply", "can_reopen", "can_rate"]

    def get_can_reply(self, ticket) -> bool:
        return services.can_reply(ticket)

    def get_can_reopen(self, ticket) -> bool:
        return services.can_reopen(ticket)

    def get_can_rate(self, ticket) -> bool:
        return services.can_rate(ticket)


class TicketDetailSerializer(TicketSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, ticket) -> list:
        return MessageSerializer(services.customer_messages(ticket), many=True, context=self.context).data


class TicketCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=TicketCategory.choices())
    priority = serializers.ChoiceField(choices=TicketPriority.choices(), default=TicketPriority.NORMAL)
    subject = serializers.CharField(max_length=services.MAX_SUBJECT)
    body = serializers.CharField(max_length=services.MAX_BODY)
    server = serializers.IntegerField(required=False, allow_null=True)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=services.MAX_FILES)


class TicketReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=services.MAX_FILES)


class RatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=services.MAX_COMMENT, required=False, allow_blank=True)
