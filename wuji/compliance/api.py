"""ICP filings over the API (`/api/v1/icp-filings/`): list, file, retrieve, withdraw. Someone else's filing is not
found (404); refusals name the field (domain, icp_number, server)."""

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from wuji.api.errors import ApiError, Conflict
from wuji.api.filtering import FilterSet, IdFilter
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel
from wuji.compute import services as compute

from . import services
from .choices import DnsResult, FilingStatus
from .models import IcpFiling


class FilingSerializer(serializers.ModelSerializer):
    server_name = serializers.CharField(source="server.name", read_only=True)
    region = serializers.CharField(source="server.region.code", read_only=True)
    status = serializers.ChoiceField(choices=FilingStatus.choices(), read_only=True)
    dns_result = serializers.ChoiceField(choices=DnsResult.choices(), allow_blank=True, read_only=True,
                                         help_text="empty until the first DNS check")

    class Meta:
        model = IcpFiling
        fields = ["id", "domain", "icp_number", "server", "server_name", "region", "status", "submitted_at",
                  "reviewed_at", "review_reason", "withdrawn_at", "dns_checked_at", "dns_result", "dns_addresses",
                  "flagged_since"]


class FileSerializer(serializers.Serializer):
    domain = serializers.CharField(max_length=253, help_text="e.g. example.cn or 中文.cn (stored as punycode)")
    icp_number = serializers.CharField(max_length=40, help_text="e.g. 京ICP备12345678号-1")
    server = serializers.IntegerField(help_text="id of one of your servers in a mainland region")


class IcpFilingFilterSet(FilterSet):
    """Filters of the caller's filings (decision 0043); the server by id as a plain number, never as a model choice
    (which would tell another customer's existing server ids from missing ones)."""

    domain_contains = django_filters.CharFilter(field_name="domain", lookup_expr="icontains",
                                                label="domain contains (punycode, case-insensitive)")
    server = IdFilter(field_name="server_id", label="server id")

    class Meta:
        model = IcpFiling
        fields = ["status", "dns_result"]


class IcpFilingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your ICP filings, newest first: review outcome and the latest DNS check of approved ones."""

    serializer_class = FilingSerializer
    queryset = IcpFiling.objects.none()
    filterset_class = IcpFilingFilterSet
    ordering_fields = ["submitted_at"]
    ordering = ("-submitted_at", "-id")

    def get_queryset(self):
        return services.filings_of(self.request.user)

    @extend_schema(request=FileSerializer, responses={201: FilingSerializer, **error_responses(400)})
    def create(self, request: Request) -> Response:
        """File a domain with its ICP number on one of your mainland servers; staff review it."""
        body = validated(FileSerializer, request.data)
        server = compute.servers_of(request.user).filter(pk=body["server"]).first()
        if server is None:
            raise ApiError(_("没有找到该服务器。"), code="not_found", field="server")
        try:
            filing = services.register_filing(owner=request.user, domain=body["domain"],
                                              icp_number=body["icp_number"], server=server, actor=request.user,
                                              channel=Channel.API, ip=client_ip(request))
        except ValidationError as exc:
            raise exceptions.ValidationError(
                {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}) from exc
        return Response(self.get_serializer(filing).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: FilingSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw a filing waiting for review or approved: the domain leaves the edge's allow-list."""
        try:
            filing = services.withdraw_filing(self.get_object(), actor=request.user, channel=Channel.API,
                                              ip=client_ip(request))
        except services.WithdrawRefused as exc:
            raise Conflict(str(exc), code="not_withdrawable") from exc
        return Response(self.get_serializer(filing).data)


router = SimpleRouter()
router.register("icp-filings", IcpFilingViewSet, basename="icp-filing")
urlpatterns = router.urls
