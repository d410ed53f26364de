import datetime as dt

import time_machine

from wuji.compute import metrics
from wuji.compute.drivers import get_driver
from wuji.compute.models import Server
from wuji.core import testing

from .conftest import active_server

START = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def test_owner_reads_the_rates_per_minute_of_the_last_24_hours(api):
    with time_machine.travel(START, tick=False) as machine:
        server = Server.objects.get(pk=active_server(api))
        metrics.collect()
        get_driver(testing.FAKE_NODE_URI).add_usage(str(server.uuid), net_tx_bytes=7_500_000, net_tx_packets=6000)
        machine.shift(60)
        metrics.collect()
        response = api.get(f"/api/v1/servers/{server.pk}/metrics/")
    assert response.status_code == 200
    body = response.json()
    assert (body["server"], body["step_seconds"], len(body["points"])) == (server.pk, 60, 1)
    point = body["points"][0]
    assert set(point) == {"at", "cpu_percent", "net_in_bps", "net_out_bps", "packets_in_ps", "packets_out_ps",
                          "disk_read_bps", "disk_write_bps"}
    assert (point["net_out_bps"], point["packets_out_ps"], point["net_in_bps"]) == (1_000_000, 100, 0)


def test_someone_elses_server_metrics_are_not_found(api, other_api):
    server_id = active_server(api)
    assert other_api.get(f"/api/v1/servers/{server_id}/metrics/").status_code == 404
    assert api.get("/api/v1/servers/999999/metrics/").status_code == 404
