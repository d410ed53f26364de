"""User data rights over the API (decision 0031): download one's own data as one JSON document, and cancel
one's own account (注销). Both need step-up verification in the body; an API key alone is not enough."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.accounts import services as accounts
from wuji.audit.choices import Channel
from wuji.compliance import services as compliance

from .errors import ApiError, Conflict
from .step_up import StepUpFields, step_up_factor
from .views import client_ip, error_responses, validated


class DataExportView(APIView):
    @extend_schema(request=StepUpFields, responses={
        200: OpenApiResponse(OpenApiTypes.OBJECT, description=(
            "the caller's own data: `subject`, `generated_at` and `data` with one section per category "
            "(profile, contact, identity with the number masked, logins, instructions, orders, ledger, "
            "servers with their IP history)")),
        **error_responses(400, 403)})
    def post(self, request: Request) -> HttpResponse:
        """Download all of the caller's own data (我的数据). Needs step-up verification in the body; recorded as
        the instruction `account.data_export`."""
        factor = step_up_factor(request, validated(StepUpFields, request.data), "data_export")
        content = compliance.export_own_data(request.user, factor=factor, channel=Channel.API, ip=client_ip(request))
        return HttpResponse(content, content_type="application/json; charset=utf-8")


class CancelSerializer(StepUpFields):
    confirm = serializers.BooleanField(help_text="must be true: the caller has read the consequences "
                                                 "(the account is deactivated for good; records are kept as the "
                                                 "law requires)")


class CancelledSerializer(serializers.Serializer):
    cancelled = serializers.BooleanField()


class AccountCancelView(APIView):
    @extend_schema(request=CancelSerializer, responses={200: CancelledSerializer, **error_responses(400, 403, 409)})
    def post(self, request: Request) -> Response:
        """Cancel the caller's own account (注销). Refused with 409 `cancellation_refused` while a balance, frozen
        funds, a server, an open fapiao or contract application, invoice debt or a withdrawal remains (the message
        lists each). Then the account is deactivated, its sessions ended and API keys revoked (this key too)."""
        body = validated(CancelSerializer, request.data)
        if not body["confirm"]:
            raise ApiError(_("请确认已了解注销的后果（confirm 须为 true）。"), code="confirmation_required",
                           field="confirm")
        factor = step_up_factor(request, body, "account_cancel")
        try:
            accounts.cancel_account(request.user, factor=factor, channel=Channel.API, ip=client_ip(request))
        except accounts.CancellationRefused as exc:
            raise Conflict(str(exc), code="cancellation_refused") from exc
        return Response(CancelledSerializer({"cancelled": True}).data)
