"""Tickets API (工单, clause 4.1): the caller's tickets, their public thread, replies, close, reopen and rating.
Someone else's ticket or attachment is 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from wuji.api.errors import ApiError, Conflict
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel
from wuji.core.uploads import IMAGES_AND_PDF

from .. import services
from ..models import Ticket
from ..views import attachment_response
from .filtersets import TicketFilterSet
from .serializers import (
    MessageSerializer,
    RatingSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketReplySerializer,
    TicketSerializer,
)

ATTACHMENT_TYPES = sorted(set(IMAGES_AND_PDF.values()))  # what ticket uploads may be (sniffed on upload)


def _refused(exc: services.TicketRefused) -> ApiError:
    return (ApiError if exc.field else Conflict)(exc.message, code=exc.code, field=exc.field)


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's support tickets (工单): category, priority, status and the public thread."""

    queryset = Ticket.objects.none()
    filterset_class = TicketFilterSet
    ordering_fields = ["id", "created_at", "updated_at"]
    ordering = ("-id",)
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return services.tickets_of(self.request.user)

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def _detail(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=ticket.pk)
        return Response(TicketDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketDetailSerializer, **error_responses(400)})
    def create(self, request: Request) -> Response:
        """Open a ticket (JSON, or multipart with up to 5 `files`); priority low, normal or high (urgent: staff)."""
        body = validated(TicketCreateSerializer, request.data)
        try:
            uploads = [services.upload_from(f) for f in body.get("files", [])]
            ticket = services.open_ticket(
                customer=request.user, category=body["category"], priority=body["priority"],
                subject=body["subject"], body=body["body"], server=body.get("server"), files=uploads,
                channel=Channel.API, ip=client_ip(request))
        except services.TicketRefused as exc:
            raise _refused(exc) from exc
        return self._detail(ticket, status.HTTP_201_CREATED)

    @extend_schema(request=TicketReplySerializer, responses={201: MessageSerializer, **error_responses(400, 404, 409)})
    @action(detail=True, methods=["post"])
    def messages(self, request: Request, pk: str) -> Response:
        """Reply to the ticket (a resolved ticket reopens, within the reopen period; a closed one refuses)."""
        ticket = self.get_object()
        body = validated(TicketReplySerializer, request.data)
        try:
            uploads = [services.upload_from(f) for f in body.get("files", [])]
            message = services.reply(ticket=ticket, customer=request.user, body=body["body"], files=uploads,
                                     channel=Channel.API, ip=client_ip(request))
        except services.TicketRefused as exc:
            raise _refused(exc) from exc
        return Response(MessageSerializer(message, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def _simple(self, call) -> Response:
        ticket = self.get_object()
        try:
            call(ticket=ticket, customer=self.request.user, channel=Channel.API, ip=client_ip(self.request))
        except services.TicketRefused as exc:
            raise _refused(exc) from exc
        return self._detail(ticket)

    @extend_schema(request=None, responses={200: TicketDetailSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._simple(services.close)

    @extend_schema(request=None, responses={200: TicketDetailSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        return self._simple(services.reopen)

    @extend_schema(request=RatingSerializer, responses={200: TicketDetailSerializer, **error_responses(400, 404, 409)})
    @action(detail=True, methods=["post"])
    def rating(self, request: Request, pk: str) -> Response:
        """Rate the service (1–5, optional comment): once, after the ticket is resolved."""
        ticket = self.get_object()
        body = validated(RatingSerializer, request.data)
        try:
            services.rate(ticket=ticket, customer=request.user, rating=body["rating"],
                          comment=body.get("comment", ""), channel=Channel.API, ip=client_ip(request))
        except services.TicketRefused as exc:
            raise _refused(exc) from exc
        return self._detail(ticket)

    @extend_schema(responses={**{(200, content_type): OpenApiTypes.BINARY for content_type in ATTACHMENT_TYPES},
                              **error_responses(404)})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_pk>\d+)",
            url_name="attachment")
    def attachment(self, request: Request, pk: str, attachment_pk: str):
        """An attachment of the ticket's public thread, as a download."""
        ticket = self.get_object()
        found = services.customer_attachments(ticket).filter(pk=attachment_pk).first()
        if found is None:
            raise NotFound
        return attachment_response(found)
