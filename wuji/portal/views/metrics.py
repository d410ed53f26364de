"""The server page's charts of the last 24 hours (CPU, network, packets, disk), from wuji.compute.metrics."""

import datetime as dt
from functools import partial

from django.utils.translation import gettext as _

from wuji.compute import metrics
from wuji.core import clock

from ..charts import Series, line_chart, scaled

HOURS = 24
BITS = ("bit/s", "Kbit/s", "Mbit/s", "Gbit/s")
BYTES = ("B/s", "KiB/s", "MiB/s", "GiB/s")


def server_metrics_context(server) -> dict:
    """For the server page (the owner's own server, already checked by the view): four small charts."""
    until = clock.now()
    since = until - dt.timedelta(hours=HOURS)
    points = metrics.series(server, hours=HOURS, now=until)
    chart = partial(line_chart, since=since, until=until)

    def line(label: str, css: str, field: str) -> Series:
        return Series(label, css, [(p.at, v) for p in points if (v := getattr(p, field)) is not None])

    packets = _("包/秒")
    return {"metrics_hours": HOURS, "metrics_charts": [
        chart(_("CPU 使用率"), [line(_("CPU"), "line-a", "cpu_percent")], fmt=lambda v: f"{v:.3g} %", floor_top=100),
        chart(_("网络流量"), [line(_("入"), "line-a", "net_in_bps"), line(_("出"), "line-b", "net_out_bps")],
              fmt=partial(scaled, units=BITS, base=1000)),
        chart(_("网络包速率"), [line(_("入"), "line-a", "packets_in_ps"), line(_("出"), "line-b", "packets_out_ps")],
              fmt=lambda v: f"{scaled(v, ('', 'K', 'M', 'G'), 1000)}{packets}"),
        chart(_("磁盘读写"), [line(_("读"), "line-a", "disk_read_bps"), line(_("写"), "line-b", "disk_write_bps")],
              fmt=partial(scaled, units=BYTES, base=1024)),
    ]}
