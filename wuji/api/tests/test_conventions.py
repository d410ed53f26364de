"""Request ids, rate limits and the language of error messages (decision 0042)."""

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.test import Client, RequestFactory

from wuji.core import request_id

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"^[0-9a-f]{32}$")


# --- Request ids -------------------------------------------------------------------------------------


def test_every_response_has_a_generated_request_id_api_and_portal(api):
    for response in (api.get("/api/v1/servers/"), Client().get("/")):
        assert GENERATED.match(response["X-Request-Id"])
    assert api.get("/api/v1/servers/")["X-Request-Id"] != api.get("/api/v1/servers/")["X-Request-Id"]


@pytest.mark.parametrize("sent", ["abcd-1234", "A" * 64, "0f8fad5b-d9cb-469f-a165-70867728950e", "a_b-c_d_"])
def test_a_well_formed_client_id_is_kept(api, sent):
    assert api.get("/api/v1/servers/", HTTP_X_REQUEST_ID=sent)["X-Request-Id"] == sent


@pytest.mark.parametrize("sent", ["short", "A" * 65, "has space1", "quote'injection", "中文请求编号请求编号"])
def test_a_malformed_client_id_is_replaced(api, sent):
    assert GENERATED.match(api.get("/api/v1/servers/", HTTP_X_REQUEST_ID=sent)["X-Request-Id"])


def test_error_bodies_name_the_request_id(api):
    response = api.get("/api/v1/servers/999999/", HTTP_X_REQUEST_ID="support-case-42")
    assert response.status_code == 404
    assert response.json()["request_id"] == response["X-Request-Id"] == "support-case-42"
    anonymous = Client().get("/api/v1/servers/")
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["request_id"] == anonymous["X-Request-Id"]


def test_log_records_written_during_a_request_carry_its_id():
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Capture()
    handler.addFilter(request_id.RequestIdFilter())
    log = logging.getLogger("wuji.tests.request_id")
    log.addHandler(handler)
    try:
        def view(request):
            log.warning("inside")
            from django.http import HttpResponse
            return HttpResponse("ok")

        middleware = request_id.RequestIdMiddleware(view)
        response = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="trace-0001"))
        log.warning("outside")
    finally:
        log.removeHandler(handler)
    assert response["X-Request-Id"] == "trace-0001"
    assert [(r.getMessage(), r.request_id) for r in records] == [("inside", "trace-0001"), ("outside", "-")]


# --- Rate limits -------------------------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.WUJI_API_RATE_LIMITS = {"read": "3/min", "write": "2/min"}
    moment = dt.datetime(2026, 11, 27, 8, 0, 10, tzinfo=dt.UTC)  # 10 s into a minute: the window ends at :00:60
    with time_machine.travel(moment, tick=False):
        yield int(moment.timestamp()) - 10 + 60


def test_reads_beyond_the_limit_are_429_with_retry_after_and_headers(api, small_limits):
    remaining = []
    for _ in range(3):
        response = api.get("/api/v1/servers/")
        assert response.status_code == 200
        assert (response["X-RateLimit-Limit"], response["X-RateLimit-Reset"]) == ("3", str(small_limits))
        remaining.append(response["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = api.get("/api/v1/servers/")
    assert refused.status_code == 429
    assert (refused.json()["code"], refused["Retry-After"]) == ("rate_limited", "50")
    assert (refused["X-RateLimit-Remaining"], refused["X-RateLimit-Reset"]) == ("0", str(small_limits))


def test_the_next_window_starts_afresh(api, small_limits):
    for _ in range(4):
        api.get("/api/v1/servers/")
    with time_machine.travel(dt.datetime.fromtimestamp(small_limits, tz=dt.UTC), tick=False):
        response = api.get("/api/v1/servers/")
    assert response.status_code == 200 and response["X-RateLimit-Remaining"] == "2"


def test_writes_have_their_own_budget_and_a_refused_write_claims_no_key(api, small_limits):
    from wuji.api.models import IdempotencyRecord

    for _ in range(3):
        api.get("/api/v1/servers/")
    for _ in range(2):
        assert api.post("/api/v1/servers/999/stop/").status_code == 404  # counted though refused by the view
    refused = api.post("/api/v1/servers/999/stop/", HTTP_IDEMPOTENCY_KEY="late")
    assert (refused.status_code, refused.json()["code"], refused["X-RateLimit-Limit"]) == (429, "rate_limited", "2")
    assert not IdempotencyRecord.objects.filter(key="late").exists()


def test_each_api_key_has_its_own_budget(api, other_api, customer, small_limits):
    from .conftest import client_for

    for _ in range(4):
        api.get("/api/v1/servers/")
    assert other_api.get("/api/v1/servers/").status_code == 200
    second_key_of_the_same_customer = client_for(customer)
    assert second_key_of_the_same_customer.get("/api/v1/servers/").status_code == 200


def test_anonymous_callers_are_limited_per_ip_and_refusals_carry_the_headers(small_limits):
    first, second = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    responses = [first.get("/api/v1/servers/") for _ in range(3)]
    assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0"]  # 401s spend the budget too
    assert first.get("/api/v1/agreement/").status_code == 429
    assert second.get("/api/v1/agreement/").status_code == 200


def test_session_callers_are_limited_per_user(customer, small_limits):
    from rest_framework.test import APIClient

    session = APIClient()
    session.force_login(customer)
    statuses = [session.get("/api/v1/servers/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- Language ----------------------------------------------------------------------------------------


def test_error_messages_follow_accept_language(api):
    english = api.post("/api/v1/servers/1/stop/", HTTP_IDEMPOTENCY_KEY="", HTTP_ACCEPT_LANGUAGE="en")
    chinese = api.post("/api/v1/servers/1/stop/", HTTP_IDEMPOTENCY_KEY="", HTTP_ACCEPT_LANGUAGE="zh-CN")
    default = api.post("/api/v1/servers/1/stop/", HTTP_IDEMPOTENCY_KEY="")
    assert english.json()["code"] == chinese.json()["code"] == "idempotency_key_required"
    assert english.json()["message"].startswith("Send an idempotency key")
    assert chinese.json()["message"].startswith("请在请求头") and default.json()["message"] == chinese.json()["message"]
    assert english["Content-Language"] == "en"

