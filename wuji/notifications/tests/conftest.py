"""Notification test fixtures: a customer with an empty inbox and test events of each kind."""

import pytest

from wuji.core import testing
from wuji.notifications import events
from wuji.notifications.choices import NoticeKind

SERVICE = "test.service"
MARKETING = "test.marketing"
LEGAL = "test.legal"


@pytest.fixture
def customer(catalogue):
    return testing.make_customer("alice@example.com", verified=False)  # an empty inbox


@pytest.fixture
def other_customer(catalogue):
    return testing.make_customer("bob@example.com", verified=False)


@pytest.fixture(autouse=True)
def test_events():
    declared = [
        events.Event(code=SERVICE, subject_zh="服务器 {{ name }} 已就绪", body_zh="您的服务器 {{ name }} 已开通。",
                     subject_en="Server {{ name }} is ready", body_en="Your server {{ name }} is up."),
        events.Event(code=MARKETING, subject_zh="双十一云服务器优惠", body_zh="新购享八折。",
                     subject_en="Singles' Day offer", body_en="20% off new servers.", kind=NoticeKind.MARKETING),
        events.Event(code=LEGAL, subject_zh="用户服务协议变更", body_zh="协议将于 {{ date }} 修订。",
                     subject_en="Agreement revised", body_en="The agreement changes on {{ date }}.",
                     kind=NoticeKind.LEGAL, mandatory=True),
    ]
    for event in declared:
        events.EVENTS.pop(event.code, None)
        events.declare(event)
    yield
    for event in declared:
        events.EVENTS.pop(event.code, None)
