import datetime as dt

import pytest
import time_machine

from wuji.agreements import services

# A fixed "now" for the tests: published revisions are dated from here.
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
REVISED_TEXT = "# 武极云用户服务协议\n\n修订时间：2026 年 3 月\n\n**1.1** 修订后的条款。"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def publish_revision(days: float = 7, version: str = "2026-03-09", **kwargs):
    return services.publish(version=version, title="武极云用户服务协议", body=REVISED_TEXT,
                            effective_at=NOW + dt.timedelta(days=days), **kwargs)
