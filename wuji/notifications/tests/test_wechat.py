"""The WeChat template-message channel against a loopback server that checks requests and answers like
WeChat's official-account API (token, template send, errcode failures). Never the real internet."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache

from wuji.core import testing
from wuji.notifications import preferences, services, wechat
from wuji.notifications.models import Delivery

from .conftest import SERVICE

APPID, SECRET, TEMPLATE = "wx-test-app", "s3cret", "TPL-SERVICE-1"


class FakeWechat(BaseHTTPRequestHandler):
    """Answers like api.weixin.qq.com; `state` (on the server) holds tokens issued, messages, failures."""

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; encoding=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's name
        state, url = self.server.state, urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/cgi-bin/token" or query != {"grant_type": "client_credential", "appid": APPID,
                                                      "secret": SECRET}:
            return self._answer({"errcode": 40013, "errmsg": "invalid appid"})
        state["tokens"].append(f"TOKEN-{len(state['tokens']) + 1}")
        return self._answer({"access_token": state["tokens"][-1], "expires_in": 7200})

    def do_POST(self):  # noqa: N802
        state, url = self.server.state, urlsplit(self.path)
        token = parse_qs(url.query).get("access_token", [""])[0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        if url.path != "/cgi-bin/message/template/send":
            return self._answer({"errcode": 404, "errmsg": "not found"})
        if token in state["expired"] or token not in state["tokens"]:
            return self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        if state["fail_with"]:
            return self._answer({"errcode": state["fail_with"], "errmsg": "require subscribe"})
        state["messages"].append({"token": token, "body": body, "content_type": self.headers["Content-Type"]})
        return self._answer({"errcode": 0, "errmsg": "ok", "msgid": 200228332})

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_wechat(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    server.state = {"tokens": [], "expired": set(), "messages": [], "fail_with": 0}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WUJI_WECHAT_MP_APPID, settings.WUJI_WECHAT_MP_SECRET = APPID, SECRET
    settings.WUJI_WECHAT_MP_TEMPLATES = {"default": TEMPLATE}
    settings.WUJI_WECHAT_MP_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    settings.WUJI_WECHAT_MP_NOTICE_URL = "https://cloud.example.com/inbox/"
    cache.clear()
    yield server.state
    server.shutdown()
    server.server_close()
    cache.clear()


@pytest.fixture
def bound(customer):
    preferences.bind_wechat(customer, "o-alice-openid", actor=None, channel="system", ip=None)
    return customer


def wechat_delivery(notice) -> Delivery:
    return Delivery.objects.get(notice=notice, channel="wechat")


def test_a_notice_goes_out_as_a_template_message_with_a_cached_token(bound, fake_wechat):
    first = services.notify(bound, SERVICE, {"name": "web-1"})
    second = services.notify(bound, SERVICE, {"name": "web-2"})
    testing.run_tasks()
    assert fake_wechat["tokens"] == ["TOKEN-1"]  # fetched once, then cached
    message = fake_wechat["messages"][0]
    assert message["token"] == "TOKEN-1" and message["content_type"].startswith("application/json")
    body = message["body"]
    assert (body["touser"], body["template_id"], body["url"]) == (
        "o-alice-openid", TEMPLATE, "https://cloud.example.com/inbox/")
    assert body["data"]["first"] == {"value": "服务器 web-1 已就绪"}
    assert body["data"]["keyword1"] == {"value": "您的服务器 web-1 已开通。"}
    assert len(fake_wechat["messages"]) == 2
    for notice in (first, second):
        delivery = wechat_delivery(notice)
        assert (delivery.status, delivery.address, delivery.detail) == ("sent", "o-alice-openid", "msgid 200228332")


def test_an_errcode_is_a_failed_attempt_that_is_retried(bound, fake_wechat):
    fake_wechat["fail_with"] = 43004
    notice = services.notify(bound, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    delivery = wechat_delivery(notice)
    assert (delivery.status, delivery.attempts) == ("pending", 1) and delivery.next_attempt_at
    attempt = delivery.attempt_log.get()
    assert attempt.result == "failed" and "errcode 43004" in attempt.detail
    assert fake_wechat["messages"] == []


def test_an_expired_token_is_fetched_again_once(bound, fake_wechat):
    assert wechat.access_token() == "TOKEN-1"
    fake_wechat["expired"].add("TOKEN-1")
    notice = services.notify(bound, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    assert fake_wechat["tokens"] == ["TOKEN-1", "TOKEN-2"]
    assert [m["token"] for m in fake_wechat["messages"]] == ["TOKEN-2"]
    assert wechat_delivery(notice).status == "sent"


def test_wrong_credentials_fail_with_the_wechat_error(bound, fake_wechat, settings):
    settings.WUJI_WECHAT_MP_SECRET = "wrong"
    with pytest.raises(wechat.WechatError) as error:
        wechat.send_template("o-alice-openid", TEMPLATE, {"first": "x"})
    assert error.value.errcode == 40013


def test_no_wechat_delivery_when_unconfigured_or_unbound(customer, bound, fake_wechat, settings,
                                                           other_customer):
    unbound = services.notify(other_customer, SERVICE, {"name": "web-1"})
    settings.WUJI_WECHAT_MP_APPID = ""
    unconfigured = services.notify(bound, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    for notice in (unbound, unconfigured):
        assert not Delivery.objects.filter(notice=notice, channel="wechat").exists()
    assert fake_wechat["tokens"] == []


def test_a_switched_off_wechat_channel_is_skipped(bound, fake_wechat):
    preferences.set_preferences(bound, {("service", "wechat"): False}, channel="web", ip=None)
    notice = services.notify(bound, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    assert wechat_delivery(notice).status == "skipped" and fake_wechat["messages"] == []


def test_an_openid_belongs_to_one_account(bound, other_customer):
    with pytest.raises(preferences.PreferenceRefused):
        preferences.bind_wechat(other_customer, "o-alice-openid", actor=None, channel="system", ip=None)
    assert preferences.unbind_wechat(bound, channel="web", ip=None) is True
    assert preferences.wechat_openid(bound) == ""


def test_the_message_time_is_business_time(bound, fake_wechat):
    import time_machine

    from wuji.core import clock

    with time_machine.travel(dt.datetime(2026, 11, 27, 9, 30, tzinfo=clock.SHANGHAI), tick=False):
        services.notify(bound, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    assert fake_wechat["messages"][0]["body"]["data"]["keyword2"] == {"value": "2026-11-27 09:30"}
