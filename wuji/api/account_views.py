"""Account and security over the API (issue 7 coverage, decision 0044): API keys (list, read, revoke — creating
one needs the portal's step-up), the account's function restrictions, the security overview, and ending every
portal session. Thin views over the services the portal's pages use; everything is the caller's own."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.accounts import contacts, restrictions
from wuji.accounts import services as accounts
from wuji.accounts.phone import mask_mobile
from wuji.accounts.restriction_models import AccountRestriction
from wuji.audit.choices import Channel

from . import services as api_keys
from .account_serializers import (
    AccountRestrictionSerializer,
    ApiKeySerializer,
    SecurityOverviewSerializer,
    SessionsEndedSerializer,
)
from .errors import Conflict
from .filtersets import ApiKeyFilterSet
from .models import ApiKey
from .views import client_ip, error_responses


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's API keys, newest first. A key is created only in the portal, after step-up verification
    (the secret is shown there once); here keys are listed and revoked."""

    serializer_class = ApiKeySerializer
    queryset = ApiKey.objects.none()
    lookup_value_regex = r"[0-9]+"
    filterset_class = ApiKeyFilterSet
    ordering_fields = ["created_at"]
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return api_keys.keys_of(self.request.user)

    @extend_schema(request=None, responses={200: ApiKeySerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        """Revoke a key (吊销): requests signed with it fail from now on. Revoking the key that signs this request
        is allowed — it is the last request that key makes."""
        key = self.get_object()
        if not key.is_active:
            raise Conflict(_("该 API 密钥已吊销。"), code="api_key_revoked")
        api_keys.revoke_key(key=key, actor=request.user, ip=client_ip(request), channel=Channel.API)
        key.refresh_from_db()
        return Response(ApiKeySerializer(key).data)


class RestrictionListView(generics.ListAPIView):
    """Account functions restricted now (clause 4.5.2.2: new purchases, renewal, withdrawal, API access), newest
    first, each with the reason. While API access is restricted no key works, so this list never shows that one
    to a key."""

    serializer_class = AccountRestrictionSerializer
    queryset = AccountRestriction.objects.none()
    filterset_fields = ["function"]
    ordering_fields = ["imposed_at"]
    ordering = ("-imposed_at", "-id")

    def get_queryset(self):
        return restrictions.open_restrictions_of(self.request.user)


def security_overview(user) -> dict:
    summary = accounts.security_summary(user)
    question = summary["question"]
    return {
        "email": user.email,
        "phone_masked": mask_mobile(user.phone) if user.phone else None,
        "mfa": {"totp": summary["mfa_totp"], "webauthn": summary["mfa_webauthn"],
                "recovery_codes": summary["mfa_recovery"]},
        "security_question": {"question": question.question, "updated_at": question.updated_at} if question else None,
        "linked_accounts": summary["social_accounts"],
        "contact_flags": list(contacts.unresolved_flags_of(user).order_by("-created_at", "-pk")),
        "restrictions": list(restrictions.open_restrictions_of(user).order_by("-imposed_at", "-pk")),
        "session_count": len(accounts.sessions_of(user)),
    }


class SecurityView(APIView):
    @extend_schema(responses=SecurityOverviewSerializer)
    def get(self, request: Request) -> Response:
        """The security overview (账户与安全): two-factor methods, security question (never the answer), linked
        third-party accounts, contacts to correct, restrictions and the number of signed-in sessions."""
        return Response(SecurityOverviewSerializer(security_overview(request.user)).data)


class SessionEndAllView(APIView):
    @extend_schema(request=None, responses={200: SessionsEndedSerializer})
    def post(self, request: Request) -> Response:
        """End every signed-in portal session of the account (e.g. after a lost device). API keys keep working:
        revoke them one by one with `POST /account/api-keys/{id}/revoke/`."""
        ended = accounts.end_all_sessions(user=request.user, ip=client_ip(request), channel=Channel.API)
        return Response(SessionsEndedSerializer({"ended": ended}).data)
