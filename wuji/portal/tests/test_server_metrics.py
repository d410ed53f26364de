"""The server page's 24-hour charts: the owner sees them as inline SVG (no script, no inline style)."""

import datetime as dt

import time_machine
from django.urls import reverse

from wuji.compute import metrics
from wuji.compute.drivers import get_driver
from wuji.core import testing

from .conftest import buy_server

START = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def test_owner_sees_charts_of_the_last_24_hours(alice_client, catalogue):
    with time_machine.travel(START, tick=False) as machine:
        server = buy_server(alice_client, catalogue)
        page = alice_client.get(reverse("portal:server", args=[server.pk])).content.decode()
        assert page.count('data-testid="metrics-chart"') == 4 and "暂无数据" in page
        for _minute in range(3):
            metrics.collect()
            get_driver(testing.FAKE_NODE_URI).add_usage(str(server.uuid), net_rx_bytes=1_000_000)
            machine.shift(60)
        page = alice_client.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert page.count("<svg") == 4 and page.count("<polyline") == 7  # CPU, then in and out for the other three
    assert "133 Kbit/s" in page  # the network chart's top: 1 MB a minute
    section = page.split('data-testid="server-metrics"')[1].split("</section>")[0]
    assert "style=" not in section and "<script" not in section


def test_someone_elses_server_page_and_charts_are_not_found(client, customer, other_customer, catalogue):
    client.force_login(customer)
    server = buy_server(client, catalogue)
    metrics.collect()
    client.force_login(other_customer)
    assert client.get(reverse("portal:server", args=[server.pk])).status_code == 404
