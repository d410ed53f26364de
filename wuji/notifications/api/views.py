"""Notifications API: the caller's inbox (站内信), notification settings and marketing consent (clause 3.6).

Someone else's notice answers 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.errors import ApiError
from wuji.api.views import client_ip, error_responses, validated
from wuji.audit.choices import Channel

from .. import preferences, services
from ..choices import ALWAYS_ON_KINDS
from ..models import Notice
from .filtersets import NoticeFilterSet
from .serializers import ConsentSerializer, NoticeSerializer, PreferencesSerializer


class InboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's notices, newest first; `?unread=true` lists unread ones only."""

    serializer_class = NoticeSerializer
    queryset = Notice.objects.none()
    filterset_class = NoticeFilterSet
    ordering_fields = ["id", "created_at"]
    ordering = ("-id",)

    def get_queryset(self):
        return services.inbox_of(self.request.user)

    @extend_schema(request=None, responses={200: NoticeSerializer, **error_responses(404)})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark one notice read."""
        notice = self.get_object()
        services.mark_read(request.user, [notice.pk])
        notice.refresh_from_db()
        return Response(NoticeSerializer(notice).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark every unread notice read; answers how many were."""
        ids = services.inbox_of(request.user).filter(read_at__isnull=True).values_list("pk", flat=True)
        return Response({"marked": services.mark_read(request.user, list(ids))})


def _preferences_body(user) -> dict:
    return {"preferences": [{"kind": kind, "channel": channel, "enabled": enabled,
                             "switchable": kind not in ALWAYS_ON_KINDS}
                            for (kind, channel), enabled in preferences.preferences_of(user).items()]}


class PreferencesView(APIView):
    """Which kinds of notice reach the caller on e-mail, SMS and WeChat (the inbox always does). Legal and
    security notices cannot be switched off."""

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request: Request) -> Response:
        return Response(_preferences_body(request.user))

    @extend_schema(request=PreferencesSerializer, responses={200: PreferencesSerializer, **error_responses(400)})
    def put(self, request: Request) -> Response:
        body = validated(PreferencesSerializer, request.data)
        wanted = {(row["kind"], row["channel"]): row["enabled"] for row in body["preferences"]}
        try:
            preferences.set_preferences(request.user, wanted, channel=Channel.API, ip=client_ip(request))
        except preferences.PreferenceRefused as exc:
            raise ApiError(exc.message, code=exc.code, field=exc.field) from exc
        return Response(_preferences_body(request.user))


def _consent_body(user) -> dict:
    consent = preferences.current_consent(user)
    return {"granted": bool(consent and consent.granted), "text_version": consent.text_version if consent else "",
            "recorded_at": consent.recorded_at if consent else None,
            "current_text_version": preferences.CONSENT_TEXT_VERSION, "text": str(preferences.CONSENT_TEXT)}


class ConsentView(APIView):
    """Consent to marketing messages (营销信息同意): granting names the text version shown; withdrawing
    needs nothing more than `{"granted": false}`."""

    @extend_schema(responses=ConsentSerializer)
    def get(self, request: Request) -> Response:
        return Response(ConsentSerializer(_consent_body(request.user)).data)

    @extend_schema(request=ConsentSerializer, responses={200: ConsentSerializer, **error_responses(400)})
    def post(self, request: Request) -> Response:
        body = validated(ConsentSerializer, request.data)
        try:
            preferences.record_consent(request.user, granted=body["granted"], channel=Channel.API,
                                       ip=client_ip(request),
                                       text_version=body.get("text_version", "" if body["granted"] else
                                                              preferences.CONSENT_TEXT_VERSION))
        except preferences.PreferenceRefused as exc:
            raise ApiError(exc.message, code=exc.code, field=exc.field) from exc
        return Response(ConsentSerializer(_consent_body(request.user)).data)
