"""Abuse API: partners file complaints; owners read their cases and reply. Someone else's case is 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.errors import ApiError, Conflict
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel

from .. import services
from ..models import Case
from .authentication import IsPartnerFeed, PartnerFeedAuthentication
from .filtersets import CaseFilterSet
from .serializers import (
    CaseDetailSerializer,
    CaseReplySerializer,
    CaseSerializer,
    ComplaintInSerializer,
    ComplaintOutSerializer,
)


def _raise(exc: services.CaseRefused):
    error = ApiError if exc.field else Conflict
    raise error(exc.message, code=exc.code, field=exc.field) from exc


class PartnerComplaintView(APIView):
    """File a complaint as a partner feed (JSON with base64 `evidence`, or multipart with `files`)."""

    authentication_classes = [PartnerFeedAuthentication]
    permission_classes = [IsPartnerFeed]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    idempotency_exempt = True  # a partner's feed, not a customer: no Idempotency-Key (decision 0042)

    @extend_schema(request=ComplaintInSerializer, responses={201: ComplaintOutSerializer, **error_responses(400, 401)})
    def post(self, request):
        body = validated(ComplaintInSerializer, request.data)
        try:
            uploads = [*body.get("evidence", []), *(services.upload_from(f) for f in body.get("files", []))]
            case = services.submit_complaint(
                category=body["category"], target=body["target"], description=body["description"],
                reporter_email=body["reporter_email"], reporter_name=body["reporter_name"],
                reporter_phone=body["reporter_phone"], occurred_at=body.get("occurred_at"), files=uploads,
                ip=client_ip(request), channel=Channel.API, partner=request.auth)
        except services.CaseRefused as exc:
            _raise(exc)
        return Response({"number": case.number, "status": case.status}, status=status.HTTP_201_CREATED)


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's abuse cases (滥用投诉案件) once they have been told about them, with the visible thread."""

    queryset = Case.objects.none()
    filterset_class = CaseFilterSet
    ordering_fields = ["created_at", "occurred_at"]
    ordering = ("-created_at", "-id")
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return services.cases_of(self.request.user)

    def get_serializer_class(self):
        return CaseSerializer if self.action == "list" else CaseDetailSerializer

    @extend_schema(request=CaseReplySerializer, responses={201: CaseDetailSerializer, **error_responses(400, 404, 409)})
    @action(detail=True, methods=["post"])
    def replies(self, request, pk: str):
        """Reply in the case thread, with up to 5 files (multipart)."""
        case = self.get_object()
        body = validated(CaseReplySerializer, request.data)
        try:
            uploads = [services.upload_from(f) for f in body.get("files", [])]
            services.reply(case, owner=request.user, text=body["text"], files=uploads, channel=Channel.API,
                           ip=client_ip(request))
        except services.CaseRefused as exc:
            _raise(exc)
        return Response(CaseDetailSerializer(self.get_queryset().get(pk=case.pk)).data, status=status.HTTP_201_CREATED)
