"""The generic Idempotency-Key layer (decision 0042): claims, replays, refusals, expiry and purge."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from wuji.api import idempotency, tasks
from wuji.api.conventions import IdempotencyClaim
from wuji.api.models import IdempotencyRecord
from wuji.audit.models import Instruction
from wuji.compute import services as compute
from wuji.core import clock, testing
from wuji.core.scheduler import registered_jobs
from wuji.ledger.models import Transaction

from .conftest import active_server, buy

pytestmark = pytest.mark.django_db


def reboot(client, server_id, key="r-1", hard=False):
    return client.post(f"/api/v1/servers/{server_id}/reboot/", {"hard": hard}, format="json",
                       HTTP_IDEMPOTENCY_KEY=key)


def stop(client, server_id, key="r-1", query=""):
    return client.post(f"/api/v1/servers/{server_id}/stop/{query}", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_returns_the_identical_response_and_does_not_run_the_service_again(api, customer):
    server_id = active_server(api)
    before = Instruction.objects.count()
    first = reboot(api, server_id)
    again = reboot(api, server_id)
    assert first.status_code == again.status_code == 202
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Instruction.objects.count() == before + 1


def test_an_order_replayed_charges_once_and_its_stored_body_holds_no_password(api, customer):
    first = buy(api, key="o-1")
    transactions = Transaction.objects.count()
    again = buy(api, key="o-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json()["root_password"] and again.json()["root_password"] is None
    assert again.json() == {**first.json(), "root_password": None}
    assert Transaction.objects.count() == transactions
    stored = bytes(IdempotencyRecord.objects.get(key="o-1").body)
    assert first.json()["root_password"].encode() not in stored


def test_the_same_key_with_another_body_is_422_and_runs_nothing(api):
    server_id = active_server(api)
    reboot(api, server_id)
    before = Instruction.objects.count()
    response = reboot(api, server_id, hard=True)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert Instruction.objects.count() == before


def test_the_same_key_on_another_path_or_query_is_422(api):
    server_id = active_server(api)
    assert stop(api, server_id).status_code == 202
    other_path = reboot(api, server_id)
    other_query = stop(api, server_id, query="?force=1")
    assert (other_path.status_code, other_path.json()["code"]) == (422, "idempotency_key_reused")
    assert (other_query.status_code, other_query.json()["code"]) == (422, "idempotency_key_reused")


def test_two_customers_may_use_the_same_key(api, other_api, customer, other_customer):
    mine, theirs = active_server(api, key="o-a"), active_server(other_api, key="o-b")
    assert reboot(api, mine, key="same").status_code == 202
    response = reboot(other_api, theirs, key="same")
    assert response.status_code == 202 and "Idempotent-Replayed" not in response
    assert Instruction.objects.filter(actor=other_customer, action__contains="reboot").count() == 1


@pytest.mark.parametrize(("key", "code"), [("", "idempotency_key_required"), ("has space", "idempotency_key_invalid"),
                                           ("x" * 101, "idempotency_key_invalid")])
def test_a_mutating_request_without_a_valid_key_is_400_and_runs_nothing(api, key, code):
    server_id = active_server(api)
    before = Instruction.objects.count()
    response = stop(api, server_id, key=key)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, "Idempotency-Key")
    assert Instruction.objects.count() == before
    assert not IdempotencyRecord.objects.filter(path__endswith="/stop/").exists()


def test_reads_need_no_key(api):
    assert api.get("/api/v1/servers/", HTTP_IDEMPOTENCY_KEY="").status_code == 200


def _claim_in_progress(owner, server_id, key="r-1", claimed_at=None):
    request = RequestFactory().generic("POST", f"/api/v1/servers/{server_id}/stop/")
    moment = claimed_at or clock.now()
    return IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=idempotency.fingerprint(request),
                                            method="POST", path=request.path, created_at=moment, claimed_at=moment)


def test_a_key_still_in_progress_is_409_then_an_abandoned_claim_is_taken_over(api, customer, settings):
    server_id = active_server(api)
    _claim_in_progress(customer, server_id)
    before = Instruction.objects.count()
    busy = stop(api, server_id)
    assert busy.status_code == 409
    assert (busy.json()["code"], busy.json()["field"]) == ("idempotency_key_in_progress", "Idempotency-Key")
    assert Instruction.objects.count() == before

    later = clock.now() + dt.timedelta(seconds=settings.WUJI_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        taken = stop(api, server_id)
    assert taken.status_code == 202
    assert Instruction.objects.count() == before + 1
    assert IdempotencyRecord.objects.get(key="r-1").state == IdempotencyRecord.State.DONE


def test_a_5xx_is_not_stored_so_a_retry_runs(api):
    server_id = active_server(api)
    api.raise_request_exception = False
    with mock.patch.object(compute, "request_operation", side_effect=RuntimeError("hypervisor down")):
        failed = stop(api, server_id)
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="r-1").exists()
    retried = stop(api, server_id)
    assert retried.status_code == 202 and "Idempotent-Replayed" not in retried


def test_a_4xx_from_the_view_is_stored_and_replayed(api):
    server_id = active_server(api)
    refused = api.post(f"/api/v1/servers/{server_id}/start/", HTTP_IDEMPOTENCY_KEY="s-1")  # already running
    assert refused.status_code == 409
    again = api.post(f"/api/v1/servers/{server_id}/start/", HTTP_IDEMPOTENCY_KEY="s-1")
    assert (again.status_code, again["Idempotent-Replayed"], again.content) == (409, "true", refused.content)


def test_a_403_is_not_stored(api, customer, settings):
    settings.WUJI_STEP_UP = {**settings.WUJI_STEP_UP}
    server_id = active_server(api)
    with mock.patch("wuji.api.views.ServerViewSet._operate", side_effect=_forbidden):
        assert stop(api, server_id).status_code == 403
    assert not IdempotencyRecord.objects.filter(key="r-1").exists()
    assert stop(api, server_id).status_code == 202


def _forbidden(*args, **kwargs):
    from rest_framework.exceptions import PermissionDenied

    raise PermissionDenied()


def test_a_key_expires_after_24_hours(api):
    server_id = active_server(api)
    reboot(api, server_id)
    testing.run_tasks()
    with time_machine.travel(clock.now() + dt.timedelta(hours=24, minutes=1), tick=False):
        response = reboot(api, server_id, hard=True)  # another body: no longer a reuse of the key
    assert response.status_code == 202 and "Idempotent-Replayed" not in response


def test_the_hourly_purge_deletes_records_older_than_24_hours(api, customer):
    server_id = active_server(api)
    reboot(api, server_id, key="old")
    with time_machine.travel(clock.now() + dt.timedelta(hours=23), tick=False):
        reboot(api, server_id, key="recent")
    assert "api.purge_idempotency_records" in {job.name for job in registered_jobs()}
    with time_machine.travel(clock.now() + dt.timedelta(hours=24, minutes=1), tick=False):
        assert tasks.purge_idempotency_records.call() == 2  # the order that built the server, and "old"
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"recent"}


# Views that may take mutating requests without the generic layer: not customer endpoints, with their own
# authentication and deduplication (decision 0042).
EXEMPT = {"wuji.abuse.api.views.PartnerComplaintView"}


def _api_views(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/") and hasattr(pattern.callback, "cls"):
            yield route, pattern.callback.cls


def test_every_api_view_passes_through_the_idempotency_layer():
    """Generated from the URL configuration, so that a new view replacing the throttle classes is caught."""
    seen = set()
    for route, view in _api_views(get_resolver().url_patterns):
        name = f"{view.__module__}.{view.__qualname__}"
        seen.add(name)
        if name in EXEMPT:
            assert view.idempotency_exempt is True, name
            continue
        assert IdempotencyClaim in view.throttle_classes, f"{route} ({name}) skips the idempotency layer"
    assert EXEMPT <= seen


def test_the_schema_asks_every_mutating_operation_for_the_key_and_documents_429():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "429" in operation["responses"], (method, path)
            if method in ("post", "put", "patch", "delete"):
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
                expected = 0 if path == "/api/v1/abuse/complaints/" else 1
                assert names.count("Idempotency-Key") == expected, (method, path)


def test_multipart_uploads_are_fingerprinted_by_their_files(api, customer, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"
    from wuji.support.models import Ticket

    def ticket(content: bytes):
        body = {"category": "billing", "subject": "发票", "body": "请开专票。",
                "files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 " + content)]}
        return api.post("/api/v1/tickets/", body, format="multipart", HTTP_IDEMPOTENCY_KEY="t-1")

    first = ticket(b"one")
    assert first.status_code == 201, first.json()
    again = ticket(b"one")
    assert (again.status_code, again["Idempotent-Replayed"], again.content) == (201, "true", first.content)
    other = ticket(b"two")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Ticket.objects.filter(customer=customer).count() == 1
