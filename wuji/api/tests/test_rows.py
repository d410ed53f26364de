"""The servers list's read path (wuji.api.rows, decision 0055) renders exactly what ServerSerializer renders, in
every state a row can be in, and refuses serializers it cannot read from `.values()` rows."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from wuji.api import serializers as s
from wuji.api.rows import ValuesSerializer
from wuji.api.views import ServerViewSet
from wuji.compute import services as compute
from wuji.compute.models import Server
from wuji.compute.tests.test_operations import active_server, operate
from wuji.core import clock, testing
from wuji.network import services as network
from wuji.network.models import IpPool
from wuji.network.tests.test_views import api_client


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


@pytest.fixture
def servers(customer, catalogue):
    """Four servers: bound address; held address under a blackhole; no address (unbound) with a task under way
    and an expiry; an error with its message."""
    network.save_pool(IpPool(name="gz", region=catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1"),
                      actor=None, channel="staff")
    testing.fund(customer, 100_000, key="rows")
    bound, held, bare, broken = (active_server(customer, catalogue, key=f"k{i}") for i in range(4))
    network.blackhole(held, reason="DDoS 攻击", actor=None, duration=dt.timedelta(hours=2))
    network.unbind(bare, actor=customer, channel="web")
    testing.run_tasks()
    operate(bare, "reboot")  # queued, not run: task_state stays set
    Server.objects.filter(pk=bare.pk).update(expires_at=clock.now() + dt.timedelta(days=30, microseconds=7))
    Server.objects.filter(pk=broken.pk).update(vm_state="error", last_error="磁盘映像损坏", name="名字 <b>")
    return [bound, held, bare, broken]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_values_rows_render_like_the_serializer_in_every_state(customer, servers, zone):
    queryset = network.with_public_ip(compute.servers_of(customer)).order_by("-id")
    with timezone.override(zone), translation.override("en"):
        expected = s.ServerSerializer(list(queryset), many=True).data
        rendered = ServerViewSet.rows.represent(ServerViewSet.rows.values(queryset))
    assert rendered == expected
    states = {(row["public_ip_state"], row["blackhole_until"] is not None, bool(row["task_state"]),
               row["expires_at"] is not None, row["vm_state"]) for row in rendered}
    assert len(states) == 4  # the four rows really differ where a conversion could go wrong


def test_the_list_endpoint_pages_values_rows_with_cursors(customer, servers):
    client = api_client(customer)
    first = client.get("/api/v1/servers/?page_size=3&ordering=created_at").json()
    second = client.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(server.pk for server in servers) and second["next"] is None
    detail = client.get(f"/api/v1/servers/{ids[0]}/").json()
    assert first["results"][0] == detail


def test_serializers_it_cannot_read_are_refused():
    class Nested(serializers.ModelSerializer):
        owner_email = serializers.CharField(source="owner.email")

        class Meta:
            model = Server
            fields = ["id", "owner_email"]

    with pytest.raises(TypeError, match="owner_email"):
        _ = ValuesSerializer(Nested).columns
