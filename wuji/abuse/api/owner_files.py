"""The files a case's owner may download over the API (issue 7 coverage, decision 0044): their own reply
attachments, as on the portal's case page — never the reporter's evidence. Someone else's case or file is 404."""

from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.views import error_responses
from wuji.billing.freezes import FILE_SIGNATURES

from .. import services
from ..models import Evidence


class CaseFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "name", "content_type", "size", "added_at"]
        read_only_fields = fields


def _owner_files(request: Request, pk: int):
    case = get_object_or_404(services.cases_of(request.user), pk=pk)
    return services.owner_files(case).exclude(file="").order_by("added_at", "pk")


class CaseFileListView(APIView):
    @extend_schema(responses={200: CaseFileSerializer(many=True), **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        """The caller's own reply attachments in this case, oldest first."""
        return Response(CaseFileSerializer(_owner_files(request, pk), many=True).data)


# What a reply file can be: its type is sniffed on upload (JPEG, PNG, PDF); older rows without one are binary.
FILE_TYPES = sorted({*FILE_SIGNATURES.values(), "application/octet-stream"})


class CaseFileDownloadView(APIView):
    @extend_schema(responses={**{(200, content_type): OpenApiTypes.BINARY for content_type in FILE_TYPES},
                              **error_responses(404)})
    def get(self, request: Request, pk: int, file_pk: int) -> HttpResponse:
        """One of the caller's reply attachments, decrypted, as a download (never rendered inline)."""
        row = get_object_or_404(_owner_files(request, pk), pk=file_pk)
        response = HttpResponse(services.file_content(row), content_type=row.content_type or "application/octet-stream")
        name = quote(row.name or f"evidence-{row.pk}", safe="")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
