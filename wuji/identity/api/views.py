"""Identity API: read the account's verification status; submit an individual or enterprise application."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.serializers import ErrorSerializer
from wuji.audit.choices import Channel

from .. import services
from .serializers import EnterpriseSubmitSerializer, IdentityStatusSerializer, IndividualSubmitSerializer

ERRORS = {400: OpenApiResponse(ErrorSerializer, description="error body")}


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _status_response(user, code: int = status.HTTP_200_OK) -> Response:
    data = IdentityStatusSerializer.from_state(services.status_of(user))
    return Response(IdentityStatusSerializer(data).data, status=code)


def _submit(request: Request, serializer_class, submit) -> Response:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        submit(request.user, **serializer.validated_data, channel=Channel.API, ip=_client_ip(request))
    except ValidationError as exc:
        raise exceptions.ValidationError(
            {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}) from exc
    return _status_response(request.user, status.HTTP_201_CREATED)


class IdentityView(APIView):
    @extend_schema(responses=IdentityStatusSerializer)
    def get(self, request: Request) -> Response:
        """The account's real-name verification (实名认证): status, kind and the masked number."""
        return _status_response(request.user)


class IndividualView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=IndividualSubmitSerializer, responses={201: IdentityStatusSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        """Apply for individual verification: real name and 18-character resident ID number (optionally a
        photo, multipart). A valid check digit is not a verification: the application is reviewed."""
        return _submit(request, IndividualSubmitSerializer, services.submit_individual)


class EnterpriseView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=EnterpriseSubmitSerializer, responses={201: IdentityStatusSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        """Apply for enterprise verification (multipart, with the business licence). Upgrading from
        individual is allowed; an enterprise account cannot go back to individual."""
        return _submit(request, EnterpriseSubmitSerializer, services.submit_enterprise)
