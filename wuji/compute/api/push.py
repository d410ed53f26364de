"""Server push (服务器转让) over the API: list, offer, accept, decline, withdraw. Offering and accepting carry a
step-up code in the body and an Idempotency-Key; someone else's push is not found (404)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from wuji.api.errors import ApiError, Conflict, PaymentRequired
from wuji.api.step_up import StepUpFields, step_up_factor
from wuji.api.views import IDEMPOTENCY_PARAMETER, client_ip, error_responses, idempotency_key, validated
from wuji.audit.choices import Channel
from wuji.compute import push as pushes
from wuji.compute import services as compute
from wuji.compute.choices import PushState
from wuji.compute.models import ServerPush

DIRECTIONS = ("incoming", "outgoing")
ACTION_SIDE = {"accept": "incoming", "decline": "incoming", "cancel": "outgoing"}
PAYMENT_CODES = ("insufficient_balance", "sender_insufficient_balance")


class PushSerializer(serializers.ModelSerializer):
    server_name = serializers.CharField(source="server.name", read_only=True)
    region = serializers.CharField(source="server.region.code", read_only=True)
    direction = serializers.SerializerMethodField()
    sender = serializers.SerializerMethodField()
    receiver = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=PushState.choices(), read_only=True)

    class Meta:
        model = ServerPush
        fields = ["id", "server", "server_name", "region", "direction", "sender", "receiver", "state", "fee_fen",
                  "offered_at", "expires_at", "closed_at"]

    def get_direction(self, push) -> str:
        return "outgoing" if push.sender_id == self.context["request"].user.pk else "incoming"

    def get_sender(self, push) -> str:
        """The sender's e-mail, masked."""
        return pushes.masked_login(push.sender)

    def get_receiver(self, push) -> str:
        """The receiver's e-mail, masked."""
        return pushes.masked_login(push.receiver)


class OfferSerializer(StepUpFields):
    server = serializers.IntegerField(help_text="id of one of your servers")
    receiver = serializers.CharField(max_length=254, help_text="the receiver's sign-in e-mail or mobile number")


class AcceptSerializer(StepUpFields):
    pass


def refusal(exc: pushes.PushRefused) -> ApiError:
    if exc.code in PAYMENT_CODES:
        return PaymentRequired(exc.message, code=exc.code)
    if exc.code.startswith("receiver_"):
        return ApiError(exc.message, code=exc.code, field="receiver")
    return Conflict(exc.message, code=exc.code)


class PushViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Server pushes you offered (outgoing) or were offered (incoming), newest first."""

    serializer_class = PushSerializer
    queryset = ServerPush.objects.none()
    filterset_fields = ["state"]
    ordering_fields = ["offered_at", "expires_at"]
    ordering = ("-offered_at", "-id")

    def get_queryset(self):
        # Accepting or declining reaches only pushes offered to the caller, withdrawing only the caller's own.
        direction = ACTION_SIDE.get(self.action) or self.request.query_params.get("direction")
        if direction == "incoming":
            return pushes.incoming_of(self.request.user)
        if direction == "outgoing":
            return pushes.outgoing_of(self.request.user)
        return pushes.pushes_of(self.request.user)

    @extend_schema(parameters=[OpenApiParameter("direction", enum=DIRECTIONS, required=False)])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def _respond(self, push: ServerPush, code: int = status.HTTP_200_OK) -> Response:
        push = self.get_queryset().get(pk=push.pk)
        return Response(self.get_serializer(push).data, status=code)

    @extend_schema(request=OfferSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: PushSerializer, **error_responses(400, 402, 403, 404, 409)})
    def create(self, request: Request) -> Response:
        """Offer one of your servers to another account by its login; it has 72 hours to accept."""
        key = idempotency_key(request)
        body = validated(OfferSerializer, request.data)
        server = compute.servers_of(request.user).filter(pk=body["server"]).first()
        if server is None:
            raise ApiError(_("没有找到该服务器。"), code="not_found", field="server")
        factor = step_up_factor(request, body, "server_push")
        try:
            push = pushes.offer(server=server, receiver_login=body["receiver"], actor=request.user,
                                channel=Channel.API, ip=client_ip(request), idempotency_key=key, factor=factor)
        except pushes.PushRefused as exc:
            raise refusal(exc) from exc
        return self._respond(push, status.HTTP_201_CREATED)

    @extend_schema(request=AcceptSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={200: PushSerializer, **error_responses(400, 402, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Accept a push offered to you: the server, its renewals and its public IP become yours."""
        push = self.get_object()
        idempotency_key(request)
        body = validated(AcceptSerializer, request.data)
        factor = step_up_factor(request, body, "server_push")
        try:
            push = pushes.accept(push=push, actor=request.user, channel=Channel.API, ip=client_ip(request),
                                 factor=factor)
        except pushes.PushRefused as exc:
            raise refusal(exc) from exc
        return self._respond(push)

    @extend_schema(request=None, responses={200: PushSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        """Decline a push offered to you; the server stays with its owner."""
        return self._close(pushes.decline, self.get_object())

    @extend_schema(request=None, responses={200: PushSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Withdraw a push you offered, while it is open."""
        return self._close(pushes.cancel, self.get_object())

    def _close(self, service, push: ServerPush) -> Response:
        try:
            push = service(push=push, actor=self.request.user, channel=Channel.API, ip=client_ip(self.request))
        except pushes.PushRefused as exc:
            raise refusal(exc) from exc
        return self._respond(push)


router = SimpleRouter()
router.register("pushes", PushViewSet, basename="push")
urlpatterns = router.urls
