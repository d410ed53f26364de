"""Agreement API: read the version in force and the pending one (public), accept the version in force."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.permissions import ApiKeyScopes
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel

from .. import services
from .serializers import AgreementAcceptSerializer, AgreementStateSerializer


def _state(user) -> dict:
    signed_in = getattr(user, "is_authenticated", False)
    return {"current": services.current_version(), "pending": services.pending_version(),
            "accepted": (not services.needs_acceptance(user)) if signed_in else None}


class AgreementView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=AgreementStateSerializer)
    def get(self, request: Request) -> Response:
        """The user service agreement in force, the published revision pending (if any) and its effective
        date, and whether the caller has accepted the version in force."""
        return Response(AgreementStateSerializer(_state(request.user)).data)


class AgreementAcceptView(APIView):
    permission_classes = [IsAuthenticated, ApiKeyScopes]  # not AgreementAccepted: this is how one accepts

    @extend_schema(request=AgreementAcceptSerializer, responses={201: AgreementStateSerializer, **error_responses(400)})
    def post(self, request: Request) -> Response:
        """Accept the version in force (recorded with time, IP and channel `api`)."""
        data = validated(AgreementAcceptSerializer, request.data)
        try:
            services.accept_current(request.user, accepted_version=data["version"], ip=client_ip(request),
                                    channel=Channel.API)
        except ValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        return Response(AgreementStateSerializer(_state(request.user)).data, status=status.HTTP_201_CREATED)
