"""API v1 views: thin. They read through querysets scoped to `request.user`, validate input with serializers,
call the services (channel "api", the client's IP) and map the services' refusals to error bodies.

Someone else's object is not found (404), never forbidden (403): its existence is not revealed.
"""

import csv
import dataclasses
import datetime as dt
import io
import re

from allauth.mfa.utils import is_mfa_enabled
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from wuji.accounts import services as accounts
from wuji.accounts.phone import mask_mobile
from wuji.accounts.security_models import LoginRecord
from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.billing.models import Order
from wuji.catalog import services as catalog
from wuji.catalog.models import Image, Plan, Region
from wuji.compute import services as compute
from wuji.compute.choices import Operation
from wuji.compute.models import Server
from wuji.core import clock
from wuji.identity import services as identity
from wuji.identity.api.serializers import IdentityStatusSerializer
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind
from wuji.ledger.models import Transaction
from wuji.network import services as network
from wuji.payments import services as payments
from wuji.payments.models import TopUp

from . import filtersets
from . import serializers as s
from .csv_export import write_instructions_csv
from .errors import ApiError, Conflict, PaymentRequired, UnprocessableEntity
from .pagination import WholeList
from .rows import ValuesSerializer

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII without spaces; the order column is 100


def client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def validated(serializer_class: type[Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def idempotency_key(request: Request) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise ApiError(_("请在请求头 Idempotency-Key 中提供幂等键（例如一个 UUID），重试时使用同一个值。"),
                       code="idempotency_key_required", field=IDEMPOTENCY_HEADER)
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise ApiError(_("幂等键须为 1 至 100 个可打印 ASCII 字符，不含空格。"),
                       code="idempotency_key_invalid", field=IDEMPOTENCY_HEADER)
    return key


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(s.ErrorSerializer, description="error body") for code in codes}


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER, location=OpenApiParameter.HEADER, required=True, type=str,
    description="client-chosen unique key (e.g. a UUID); a retry with the same key returns the first result",
)


# --- Catalogue --------------------------------------------------------------------------------------


class RegionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Regions on sale."""

    serializer_class = s.RegionSerializer
    queryset = Region.objects.none()
    filterset_fields = ["is_mainland"]
    ordering_fields = ["code"]
    ordering = ("sort_order", "code")

    def get_queryset(self):
        return catalog.regions()


class PlanViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Plans on sale."""

    serializer_class = s.PlanSerializer
    queryset = Plan.objects.none()
    filterset_fields = {"vcpus": ["exact", "gte", "lte"], "memory_mib": ["gte", "lte"], "disk_gib": ["gte", "lte"]}
    ordering_fields = ["code", "vcpus", "memory_mib", "disk_gib", "bandwidth_mbps"]
    ordering = ("vcpus", "memory_mib", "code")

    def get_queryset(self):
        return catalog.plans()


class ImageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """OS images available."""

    serializer_class = s.ImageSerializer
    queryset = Image.objects.none()
    filterset_fields = ["os_family"]
    ordering_fields = ["code", "os_family"]
    ordering = ("code",)

    def get_queryset(self):
        return catalog.images()


@dataclasses.dataclass(frozen=True)
class PriceRow:
    plan: str
    region: str
    cycle: str
    amount_fen: int
    effective_from: dt.datetime


def prices_on_sale() -> list[PriceRow]:
    """Prices in force now for plans and regions on sale, in catalogue order (three queries)."""
    plans = {plan.pk: (index, plan.code) for index, plan in enumerate(catalog.plans())}
    regions = {region.pk: (index, region.code) for index, region in enumerate(catalog.regions())}
    on_sale = [p for p in catalog.prices_in_force().values() if p.plan_id in plans and p.region_id in regions]
    on_sale.sort(key=lambda p: (regions[p.region_id][0], plans[p.plan_id][0], p.cycle))
    return [PriceRow(plan=plans[p.plan_id][1], region=regions[p.region_id][1], cycle=p.cycle,
                     amount_fen=p.amount_fen, effective_from=p.effective_from) for p in on_sale]


class PriceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Prices in force now (3.5): what an order placed now is charged. One page with every price (decision 0043):
    computed in Python, and no longer than plans × regions × cycles."""

    serializer_class = s.PriceSerializer
    pagination_class = WholeList
    filter_backends = []

    def get_queryset(self):
        return prices_on_sale()


class QuoteView(APIView):
    @extend_schema(parameters=[s.QuoteQuerySerializer], responses={200: s.QuoteSerializer, **error_responses(400, 409)})
    def get(self, request: Request) -> Response:
        """The price an order for this plan in this region would be charged now."""
        query = validated(s.QuoteQuerySerializer, request.query_params)
        try:
            amount = billing.quote(region=query["region"], plan=query["plan"], cycle=query["cycle"])
        except catalog.NotOnSale as exc:
            raise Conflict(str(exc), code="not_on_sale") from exc
        quote = {"region": query["region"].code, "plan": query["plan"].code, "cycle": query["cycle"],
                 "amount_fen": amount}
        return Response(s.QuoteSerializer(quote).data)


# --- Wallet -----------------------------------------------------------------------------------------


class BalanceView(APIView):
    @extend_schema(responses=s.BalanceSerializer)
    def get(self, request: Request) -> Response:
        """The customer's balances (余额) in fen."""
        balances = ledger.balances(request.user)
        cash, gift, frozen = (balances[k] for k in (AccountKind.CASH, AccountKind.GIFT, AccountKind.FROZEN))
        data = {"cash_fen": cash, "gift_fen": gift, "frozen_fen": frozen, "available_fen": cash + gift}
        return Response(s.BalanceSerializer(data).data)


class TransactionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The customer's ledger transactions (收支明细), newest first."""

    serializer_class = s.TransactionSerializer
    queryset = Transaction.objects.none()
    filterset_class = filtersets.TransactionFilterSet
    ordering_fields = ["id", "created_at"]
    ordering = ("-id",)

    def get_queryset(self):
        return ledger.transactions_of(self.request.user)


class TopUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Top-ups (充值). Money is credited when the payment channel's verified notice arrives, not here."""

    serializer_class = s.TopUpSerializer
    queryset = TopUp.objects.none()
    filterset_class = filtersets.TopUpFilterSet
    ordering_fields = ["created_at", "amount_fen"]
    ordering = ("-id",)
    lookup_field = "out_trade_no"
    lookup_value_regex = r"[A-Za-z0-9]+"

    def get_queryset(self):
        return payments.topups_of(self.request.user)

    @extend_schema(request=s.TopUpCreateSerializer, responses={201: s.TopUpSerializer, **error_responses(400)})
    def create(self, request: Request) -> Response:
        """Open a top-up on an enabled channel; pay it at `pay_url` (sandbox, Alipay) or show `code_url` as a QR
        code (WeChat Native: filled in shortly after, poll the top-up). Credited when the channel confirms."""
        body = validated(s.TopUpCreateSerializer, request.data)
        try:
            topup = payments.create_topup(customer=request.user, amount_fen=body["amount_fen"],
                                          channel=body["channel"], ip=client_ip(request), via=Channel.API)
        except payments.PaymentError as exc:
            raise ApiError(str(exc), code="payment_refused", field=exc.field) from exc
        return Response(self.get_serializer(topup).data, status=status.HTTP_201_CREATED)


# --- Orders -----------------------------------------------------------------------------------------


def purchase_refusal(exc: billing.PurchaseRefused) -> ApiError:
    if isinstance(exc, billing.InsufficientBalance):
        return PaymentRequired(str(exc))
    return Conflict(str(exc), code=getattr(exc, "code", "purchase_refused"))


def check_same_purchase(order: Order, body: dict) -> None:
    """A replayed key must carry the purchase it was first used for; reusing it for another is an error."""
    first = (order.region_id, order.plan_id, order.image_id, order.cycle)
    if first != (body["region"].pk, body["plan"].pk, body["image"].pk, body["cycle"]):
        message = _("该幂等键已用于另一笔订单（#%(id)s），请为新订单使用新的幂等键。") % {"id": order.pk}
        raise UnprocessableEntity(message, code="idempotency_key_reused", field=IDEMPOTENCY_HEADER)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders (订单): each buys one server at the price in force, paid from the balance."""

    serializer_class = s.OrderSerializer
    queryset = Order.objects.none()
    filterset_class = filtersets.OrderFilterSet
    ordering_fields = ["id", "created_at", "amount_fen"]
    ordering = ("-id",)

    def get_queryset(self):
        return billing.orders_of(self.request.user)

    @extend_schema(
        request=s.OrderCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OpenApiResponse(s.OrderCreatedSerializer, description="bought; root_password shown this once"),
            200: OpenApiResponse(s.OrderCreatedSerializer, description="replay of the key: the first order"),
            **error_responses(400, 402, 409, 422),
        },
    )
    def create(self, request: Request) -> Response:
        """Buy a server. The charge, the order, the server and its provisioning are one transaction."""
        key = idempotency_key(request)
        body = validated(s.OrderCreateSerializer, request.data)
        try:
            order, password = billing.place_order(
                customer=request.user, region=body["region"], plan=body["plan"], image=body["image"],
                cycle=body["cycle"], name=body["name"], expected_amount=body["expected_amount_fen"],
                idempotency_key=key, channel=Channel.API, ip=client_ip(request),
            )
        except billing.PurchaseRefused as exc:
            raise purchase_refusal(exc) from exc
        data = s.OrderCreatedSerializer(order, context={"root_password": password}).data
        if password is None:
            check_same_purchase(order, body)
            return Response(data, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})
        return Response(data, status=status.HTTP_201_CREATED)


# --- Servers ----------------------------------------------------------------------------------------


class ServerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Servers (云服务器). Actions are instructions: accepted at once (202), carried out in the background."""

    serializer_class = s.ServerSerializer
    queryset = Server.objects.none()
    filterset_class = filtersets.ServerFilterSet
    ordering_fields = ["id", "name", "created_at"]
    ordering = ("-id",)

    rows = ValuesSerializer(s.ServerSerializer)

    def get_queryset(self):
        return network.with_public_ip(compute.servers_of(self.request.user))

    # The list customers poll most: read as `.values()` rows, rendered by ServerSerializer's own fields
    # (wuji.api.rows, decision 0055). No docstring: it would replace the operation's description in the schema.
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.rows.values(self.get_queryset())))
        return self.get_paginated_response(self.rows.represent(page))

    def _operate(self, operation: str, *, server: Server | None = None, **options) -> Response:
        server = server or self.get_object()
        try:
            instruction, password = compute.request_operation(
                server=server, operation=operation, actor=self.request.user, channel=Channel.API,
                ip=client_ip(self.request), factor="api_key", **options,
            )
        except compute.OperationRefused as exc:
            raise Conflict(str(exc), code="operation_refused") from exc
        data = {"server": server.pk, "operation": operation, "instruction_seq": instruction.seq}
        if password is not None:
            data["root_password"] = password
        if "ssh_key_fingerprint" in instruction.params:
            data["ssh_key_fingerprint"] = instruction.params["ssh_key_fingerprint"]
        return Response(data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.OperationAcceptedSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        """Power on (开机)."""
        return self._operate(Operation.START)

    @extend_schema(request=None, responses={202: s.OperationAcceptedSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        """Shut down (关机): asks the guest, then powers off after the timeout."""
        return self._operate(Operation.STOP)

    @extend_schema(request=s.RebootSerializer,
                   responses={202: s.OperationAcceptedSerializer, **error_responses(400, 404, 409)})
    @action(detail=True, methods=["post"])
    def reboot(self, request: Request, pk: str) -> Response:
        """Restart (重启); `hard` power-cycles (强制重启)."""
        server = self.get_object()  # someone else's server is 404 whatever the body says
        body = validated(s.RebootSerializer, request.data)
        return self._operate(Operation.REBOOT_HARD if body["hard"] else Operation.REBOOT, server=server)

    @extend_schema(request=s.ReinstallSerializer,
                   responses={202: s.ReinstallAcceptedSerializer, **error_responses(400, 404, 409)})
    @action(detail=True, methods=["post"])
    def reinstall(self, request: Request, pk: str) -> Response:
        """Reinstall the OS (重装系统) from an image; the disk is wiped. A new root password (shown once), an SSH
        public key for root, or both; only the key's fingerprint is logged."""
        server = self.get_object()
        body = validated(s.ReinstallSerializer, request.data)
        return self._operate(Operation.REINSTALL, image=body["image"], server=server,
                             ssh_key=body.get("ssh_key") or None, new_password=body["root_password"])

    # issue 5: ops
    @extend_schema(request=None, responses={202: s.ResetPasswordAcceptedSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request: Request, pk: str) -> Response:
        """Reset the root password (重置密码) of a running server through its QEMU guest agent, without a
        reboot; the new password is shown once. When the guest has no agent the instruction fails and the
        server's `last_error` says so."""
        return self._operate(Operation.RESET_PASSWORD)

    # issue 5: network — the public IP, bound and unbound by the owner (blackholes are staff's or abuse rules').

    def _ip_operation(self, call, operation: str) -> Response:
        server = self.get_object()
        try:
            instruction = call(server, actor=self.request.user, channel=Channel.API, ip=client_ip(self.request))
        except compute.OperationRefused as exc:
            raise Conflict(str(exc), code="operation_refused") from exc
        data = {"server": server.pk, "operation": operation, "instruction_seq": instruction.seq,
                "address": instruction.params["address"]}
        return Response(s.IpOperationAcceptedSerializer(data).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.IpOperationAcceptedSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"], url_path="bind-ip")
    def bind_ip(self, request: Request, pk: str) -> Response:
        """Bind a public IP (绑定公网 IP): the lowest free address of the region's pools, applied in the
        background (watch `public_ip_state` go from pending to bound)."""
        return self._ip_operation(network.bind, "bind_ip")

    @extend_schema(request=None, responses={202: s.IpOperationAcceptedSerializer, **error_responses(404, 409)})
    @action(detail=True, methods=["post"], url_path="unbind-ip")
    def unbind_ip(self, request: Request, pk: str) -> Response:
        """Unbind the public IP (解绑公网 IP): taken off the server, then returned to the pool (a later bind may
        give another address). Refused while the address is blackholed."""
        return self._ip_operation(network.unbind, "unbind_ip")


# --- Instruction log --------------------------------------------------------------------------------


class InstructionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The customer's instruction log (clause 3.1), newest first: each instruction and, later, its outcome."""

    serializer_class = s.InstructionSerializer
    queryset = Instruction.objects.none()
    filterset_class = filtersets.InstructionFilterSet
    ordering_fields = ["seq", "created_at"]
    ordering = ("-seq",)
    lookup_field = "seq"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return audit.instructions_for(self.request.user)


class CSVRenderer(BaseRenderer):
    """Lets clients ask for `text/csv`. The export writes its own body; only error bodies are rendered here."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        stream = io.StringIO()
        csv.writer(stream).writerows((data or {}).items() if isinstance(data, dict) else [])
        return stream.getvalue().encode()


class InstructionExportView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR}, operation_id="instructions_export_csv")
    def get(self, request: Request) -> HttpResponse:
        """The whole instruction log as CSV (UTF-8 with BOM, for Excel)."""
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"wuji-instructions-{clock.local_now():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        write_instructions_csv(audit.instructions_for(request.user).iterator(chunk_size=1000), response)
        return response


# --- Account and security (6.1–6.4, 2.2.2) -----------------------------------------------------------

CONTACT_FIELDS = ("phone", "email")


def account_data(user) -> dict:
    return {
        "email": user.email,
        "phone_masked": mask_mobile(user.phone) if user.phone else None,
        "language": user.language,
        "profile": accounts.profile_of(user),
        "mfa_enabled": is_mfa_enabled(user),
        "identity": IdentityStatusSerializer.from_state(identity.status_of(user)),
        "locked": user.locked_at is not None,
    }


class AccountView(APIView):
    @extend_schema(responses=s.AccountSerializer)
    def get(self, request: Request) -> Response:
        """The account: e-mail, masked mobile number, language, profile (6.2), two-factor, real-name
        verification and whether it is locked."""
        return Response(s.AccountSerializer(account_data(request.user)).data)


class AccountProfileView(APIView):
    @extend_schema(request=s.ProfileSerializer(partial=True), responses={200: s.ProfileSerializer,
                                                                        **error_responses(400)})
    def patch(self, request: Request) -> Response:
        """Change profile fields (6.2) and the QQ number. The mobile number and e-mail change only in the
        portal, where codes are sent to both the new and the old contact."""
        for name in CONTACT_FIELDS:
            if name in request.data:
                raise ApiError(_("手机号码和电子邮箱只能在控制台的“账户与安全”页面更换（需向新旧联系方式分别验证）。"),
                               code="contact_change_not_allowed", field=name)
        serializer = s.ProfileSerializer(accounts.profile_of(request.user), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            profile = accounts.update_profile(user=request.user, ip=client_ip(request), channel=Channel.API,
                                              **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError({("non_field_errors" if k == "__all__" else k): v
                                   for k, v in exc.message_dict.items()}) from exc
        return Response(s.ProfileSerializer(profile).data)


class LoginRecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own login records (登录记录, 6.4), newest first."""

    serializer_class = s.LoginRecordSerializer
    queryset = LoginRecord.objects.none()
    filterset_class = filtersets.LoginRecordFilterSet
    ordering_fields = ["created_at"]
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return accounts.login_records_of(self.request.user)


class SessionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own signed-in sessions (2.2.2), most recently seen first; one page with all of them (decision
    0043): they are checked against the session store in Python, and a person has few."""

    serializer_class = s.UserSessionSerializer
    pagination_class = WholeList
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return accounts.sessions_of(self.request.user)

    def get_serializer_context(self):
        session = getattr(self.request._request, "session", None)
        return {**super().get_serializer_context(), "session_key": session.session_key if session else None}

    @extend_schema(responses={204: None, **error_responses(404)})
    def destroy(self, request: Request, pk: str) -> Response:
        """End one of the caller's sessions: that browser is signed out at once."""
        if not accounts.end_session(user=request.user, session_id=int(pk), ip=client_ip(request),
                                    channel=Channel.API):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
