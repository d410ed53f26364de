"""API v1 representations. Money is integer fen (`*_fen`), with a display string in yuan (`*_yuan`, "29.00").

Catalogue objects are referred to by their `code`; customer objects by id (servers, orders), trade number
(top-ups) or sequence number (instructions). Input serializers only validate: writes go through services.
"""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wuji.accounts.choices import LoginEvent, LoginResult
from wuji.accounts.security_models import LoginRecord, Profile
from wuji.accounts.services import PROFILE_FIELDS
from wuji.audit.choices import Channel
from wuji.audit.models import Instruction
from wuji.billing.models import Order
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.catalog.models import Image, Plan, Region
from wuji.compute import ssh_keys
from wuji.compute.models import Server
from wuji.core.money import fen_to_yuan
from wuji.identity.api.serializers import IdentityStatusSerializer
from wuji.network.choices import AddressState
from wuji.payments import services as payments
from wuji.payments.choices import PaymentChannel, TopUpStatus
from wuji.payments.models import TopUp


@extend_schema_field({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "29.00"})
class YuanField(serializers.Field):
    """An amount in fen shown in yuan with two decimals, as a string (never a float)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: int) -> str:
        return str(fen_to_yuan(value))


@extend_schema_field({"type": "string", "enum": PaymentChannel.values()}, component_name="PaymentChannelEnum")
class PaymentChannelField(serializers.ChoiceField):
    """Named apart from the instruction log's channel (web, api…) so the schema's enums do not collide."""

    def __init__(self, **kwargs):
        super().__init__(choices=PaymentChannel.choices(), **kwargs)


@extend_schema_field({"type": "string", "enum": Channel.values()}, component_name="InstructionChannelEnum")
class InstructionChannelField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Channel.choices(), **kwargs)


class CodeField(serializers.SlugRelatedField):
    """A slug lookup that never sends a NUL character to the database (PostgreSQL refuses it with an error,
    not an empty result): such a code does not exist."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


def code_field(queryset, not_found_message) -> serializers.SlugRelatedField:
    """A catalogue object chosen by code among those on sale (inactive ones do not exist for buyers)."""
    return CodeField(slug_field="code", queryset=queryset, error_messages={"does_not_exist": not_found_message})


NO_SUCH_REGION = _("没有可售的地域“{value}”。")
NO_SUCH_PLAN = _("没有可售的配置“{value}”。")
NO_SUCH_IMAGE = _("没有可用的镜像“{value}”。")


def cycle_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=BillingCycle.choices(), **kwargs)


class ErrorSerializer(serializers.Serializer):
    """Every error body: a stable machine code, a message for people, and the field concerned (if any)."""

    code = serializers.CharField(help_text="stable machine code, e.g. insufficient_balance, operation_refused")
    message = serializers.CharField(help_text="in the caller's language (Accept-Language): Chinese, then English")
    field = serializers.CharField(allow_null=True, help_text="the input field (or header) at fault, if any")
    request_id = serializers.CharField(help_text="the response's X-Request-Id: quote it when asking for support")


# --- Catalogue --------------------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name_zh", "name_en", "is_mainland"]


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["code", "name_zh", "name_en", "vcpus", "memory_mib", "disk_gib", "bandwidth_mbps"]


class ImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Image
        fields = ["code", "name_zh", "name_en", "os_family"]


class PriceSerializer(serializers.Serializer):
    """A price in force now; read from `views.PriceRow`."""

    plan = serializers.CharField(help_text="plan code")
    region = serializers.CharField(help_text="region code")
    cycle = cycle_field()
    amount_fen = serializers.IntegerField()
    amount_yuan = YuanField(source="amount_fen")
    effective_from = serializers.DateTimeField()


class QuoteQuerySerializer(serializers.Serializer):
    region = code_field(catalog.regions(), NO_SUCH_REGION)
    plan = code_field(catalog.plans(), NO_SUCH_PLAN)
    cycle = cycle_field(default=BillingCycle.MONTHLY)


class QuoteSerializer(serializers.Serializer):
    region = serializers.CharField()
    plan = serializers.CharField()
    cycle = cycle_field()
    amount_fen = serializers.IntegerField()
    amount_yuan = YuanField(source="amount_fen")


# --- Wallet -----------------------------------------------------------------------------------------


class BalanceSerializer(serializers.Serializer):
    """Available = cash + gift; frozen money (冻结金额) is held apart and cannot be spent."""

    cash_fen = serializers.IntegerField()
    gift_fen = serializers.IntegerField()
    frozen_fen = serializers.IntegerField()
    available_fen = serializers.IntegerField()
    available_yuan = YuanField(source="available_fen")


class TransactionSerializer(serializers.Serializer):
    """A ledger transaction seen from the customer: the net change of each of their balances."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    memo = serializers.CharField()
    created_at = serializers.DateTimeField()
    amount_fen = serializers.IntegerField(help_text="net change of cash + gift + frozen")
    amount_yuan = YuanField(source="amount_fen")
    cash_fen = serializers.IntegerField()
    gift_fen = serializers.IntegerField()
    frozen_fen = serializers.IntegerField()


class TopUpSerializer(serializers.ModelSerializer):
    channel = PaymentChannelField(read_only=True)
    amount_yuan = YuanField(source="amount_fen")
    pay_url = serializers.SerializerMethodField(help_text="where the payer pays (pending sandbox/Alipay top-ups)")
    code_url = serializers.SerializerMethodField(
        help_text="WeChat Native: the code to show as a QR code (pending top-ups; null until the channel answered)")

    class Meta:
        model = TopUp
        fields = ["out_trade_no", "channel", "amount_fen", "amount_yuan", "status", "created_at", "expires_at",
                  "paid_at", "pay_url", "code_url"]

    def get_pay_url(self, topup: TopUp) -> str | None:
        if topup.status != TopUpStatus.PENDING:
            return None
        if topup.channel == PaymentChannel.ALIPAY:
            pay = payments.payment_request(topup)
            return pay.pay_url if pay else None
        if topup.channel != PaymentChannel.SANDBOX:
            return None
        try:
            path = reverse("portal:sandbox_pay", args=[topup.out_trade_no])
        except NoReverseMatch:  # the portal's sandbox page is not installed
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_code_url(self, topup: TopUp) -> str | None:
        if topup.status != TopUpStatus.PENDING or topup.channel != PaymentChannel.WECHAT:
            return None
        return topup.code_url or None


class TopUpCreateSerializer(serializers.Serializer):
    amount_fen = serializers.IntegerField(min_value=payments.MIN_TOPUP_FEN, max_value=payments.MAX_TOPUP_FEN)
    channel = PaymentChannelField(default=PaymentChannel.SANDBOX)


# --- Orders -----------------------------------------------------------------------------------------


class OrderSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    image = serializers.SlugRelatedField(slug_field="code", read_only=True)
    amount_yuan = YuanField(source="amount_fen")

    class Meta:
        model = Order
        fields = ["id", "region", "plan", "image", "cycle", "amount_fen", "amount_yuan", "server", "created_at"]


class OrderCreatedSerializer(OrderSerializer):
    root_password = serializers.SerializerMethodField(
        help_text="the server's initial root password: in the 201 response only, never again (null on replay)"
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "root_password"]

    def get_root_password(self, order: Order) -> str | None:
        return self.context.get("root_password")


class OrderCreateSerializer(serializers.Serializer):
    region = code_field(catalog.regions(), NO_SUCH_REGION)
    plan = code_field(catalog.plans(), NO_SUCH_PLAN)
    image = code_field(catalog.images(), NO_SUCH_IMAGE)
    cycle = cycle_field()
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expected_amount_fen = serializers.IntegerField(
        min_value=0, required=False, allow_null=True, default=None,
        help_text="the price the customer confirmed; refused if the price in force differs",
    )


# --- Servers ----------------------------------------------------------------------------------------


class ServerSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    image = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Annotated on the queryset by network.with_public_ip (no query per row); null when it holds none.
    public_ip = serializers.IPAddressField(read_only=True, allow_null=True, protocol="IPv4",
                                           help_text="the server's public IPv4 address, or null")
    # issue 5: network — annotated by network.with_public_ip too.
    public_ip_state = serializers.ChoiceField(
        choices=AddressState.choices(), read_only=True, allow_null=True,
        help_text="pending (being applied), bound, or held (blackholed: kept for the server, unreachable); "
                  "null without a public IP")
    blackhole_until = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="while blackholed (DDoS): when the address is expected back")

    class Meta:
        model = Server
        fields = ["id", "uuid", "name", "region", "plan", "image", "vcpus", "memory_mib", "disk_gib", "vm_state",
                  "task_state", "power_state", "suspension_reason", "last_error", "created_at", "expires_at",
                  "public_ip", "public_ip_state", "blackhole_until"]


class RebootSerializer(serializers.Serializer):
    hard = serializers.BooleanField(default=False, help_text="power-cycle instead of asking the guest")


class ReinstallSerializer(serializers.Serializer):
    image = code_field(catalog.images(), NO_SUCH_IMAGE)
    ssh_key = serializers.CharField(
        required=False, allow_blank=True, max_length=ssh_keys.MAX_LINE_CHARS, trim_whitespace=True,
        help_text="an OpenSSH public key line (ssh-ed25519, ssh-rsa of at least 2048 bits, ecdsa) installed for root",
    )
    root_password = serializers.BooleanField(
        default=True, help_text="generate a new root password (shown once); false needs an ssh_key")

    def validate_ssh_key(self, value: str) -> str:
        if value:
            try:
                ssh_keys.parse(value)
            except ssh_keys.InvalidKey as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return value


class OperationAcceptedSerializer(serializers.Serializer):
    """An accepted instruction: the operation runs in the background; watch the server's task_state."""

    server = serializers.IntegerField()
    operation = serializers.CharField()
    instruction_seq = serializers.IntegerField(help_text="the instruction's number in the instruction log")


class IpOperationAcceptedSerializer(OperationAcceptedSerializer):
    address = serializers.IPAddressField(protocol="IPv4", help_text="the address being bound or unbound")


class ReinstallAcceptedSerializer(OperationAcceptedSerializer):
    root_password = serializers.CharField(
        required=False, help_text="the new root password: shown in this response only; absent for key-only")
    ssh_key_fingerprint = serializers.CharField(
        required=False, help_text="SHA256 fingerprint of the installed SSH key, when one was given")


class ResetPasswordAcceptedSerializer(OperationAcceptedSerializer):
    root_password = serializers.CharField(help_text="the new root password: shown in this response only")


# --- Instruction log --------------------------------------------------------------------------------


class InstructionSerializer(serializers.ModelSerializer):
    channel = InstructionChannelField(read_only=True)
    refers_to = serializers.SlugRelatedField(
        slug_field="seq", read_only=True, allow_null=True,
        help_text="for an outcome: the seq of the instruction it reports on; null for an instruction"
    )

    class Meta:
        model = Instruction
        fields = ["seq", "created_at", "channel", "action", "target_type", "target_id", "params", "ip", "result",
                  "detail", "refers_to"]


# --- Account and security (6.1–6.4, 2.2.2) -----------------------------------------------------------


@extend_schema_field({"type": "string", "enum": LoginEvent.values()}, component_name="LoginEventEnum")
class LoginEventField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": LoginResult.values()}, component_name="LoginResultEnum")
class LoginResultField(serializers.CharField):
    pass


class ProfileSerializer(serializers.ModelSerializer):
    """The descriptive profile fields of clause 6.2 and the QQ number; phone and e-mail are not here."""

    class Meta:
        model = Profile
        fields = PROFILE_FIELDS


class AccountSerializer(serializers.Serializer):
    email = serializers.EmailField()
    phone_masked = serializers.CharField(allow_null=True, help_text="e.g. 138****8000; null when no phone is set")
    language = serializers.CharField()
    profile = ProfileSerializer()
    mfa_enabled = serializers.BooleanField(help_text="TOTP, passkey or recovery codes set up")
    identity = IdentityStatusSerializer(help_text="real-name verification, as GET /api/v1/identity/")
    locked = serializers.BooleanField(help_text="locked after a report of unauthorised use, until staff review")


class LoginRecordSerializer(serializers.ModelSerializer):
    event = LoginEventField()
    result = LoginResultField()

    class Meta:
        model = LoginRecord
        fields = ("id", "created_at", "event", "result", "detail", "identifier", "ip", "port", "user_agent")
        read_only_fields = fields


class UserSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ip = serializers.IPAddressField()
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    current = serializers.SerializerMethodField(help_text="the browser session this request came with, if any")

    def get_current(self, obj) -> bool:
        key = self.context.get("session_key")
        return bool(key) and obj.session_key == key
