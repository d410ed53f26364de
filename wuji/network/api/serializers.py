"""A server's public IP and the customer's addresses over the API (issue 7 coverage, decision 0044)."""

from rest_framework import serializers

from wuji.network.choices import AddressState
from wuji.network.models import Blackhole, IpAllocation


class BlackholeStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Blackhole
        fields = ["reason", "started_at", "ends_at"]
        read_only_fields = fields


class PublicIpSerializer(serializers.ModelSerializer):
    """One address a server of the caller holds now."""

    state = serializers.ChoiceField(choices=AddressState.choices(), read_only=True,
                                    help_text="pending (being applied), bound, or held (blackholed)")
    server = serializers.PrimaryKeyRelatedField(read_only=True)
    server_name = serializers.CharField(source="server.name", read_only=True)
    region = serializers.CharField(source="server.region.code", read_only=True)
    blackhole_until = serializers.DateTimeField(read_only=True, allow_null=True,
                                                help_text="while blackholed: when the address is expected back")

    class Meta:
        model = IpAllocation
        fields = ["address", "state", "server", "server_name", "region", "allocated_at", "blackhole_until"]
        read_only_fields = fields


class ServerIpSerializer(serializers.Serializer):
    """The server page's public IP card."""

    server = serializers.IntegerField()
    address = serializers.IPAddressField(protocol="IPv4", allow_null=True, help_text="null without a public IP")
    state = serializers.ChoiceField(choices=AddressState.choices(), allow_null=True)
    allocated_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True, help_text="the last failure to apply the address, if any")
    blackhole = BlackholeStateSerializer(allow_null=True, help_text="while blackholed (DDoS): why and until when")
    can_bind = serializers.BooleanField(help_text="POST /servers/{id}/bind-ip/ would be accepted now")
    can_unbind = serializers.BooleanField(help_text="POST /servers/{id}/unbind-ip/ would be accepted now")
