"""The SDK (wuji_sdk) against a scripted server on loopback: request building from the schema, signatures, retries
and their limits, errors, pagination, profiles, tables, and the CLI's exit codes. No database, no Django server."""

import json
import os
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from wuji_sdk import Client, config, errors, output, schema
from wuji_sdk import cli as wuji_cli
from wuji_sdk import client as sdk_client

from .sdk_stub import StubServer

REPO = Path(__file__).resolve().parents[3]
SECRET = "s3cret"


@pytest.fixture
def stub():
    server = StubServer(secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def client(stub):
    client = Client(stub.url, "AKTEST", SECRET, retries=2, timeout=5)
    client.delays = []
    client.sleep = client.delays.append  # record the backoff instead of sleeping it
    return client


# --- Building requests from the schema ------------------------------------------------------------------


def test_call_builds_path_query_and_json_body_from_the_schema():
    built = schema.bundled().build("servers_reboot_create", {"id": 42, "hard": True})
    assert (built.method, built.path, built.query, built.body) == ("POST", "/api/v1/servers/42/reboot/", [],
                                                                   {"hard": True})
    built = schema.bundled().build("servers_list", {"page_size": 5, "vm_state": "active"})
    assert (built.method, built.path, built.query, built.body) == ("GET", "/api/v1/servers/",
                                                                   [("page_size", "5"), ("vm_state", "active")], None)
    built = schema.bundled().build("topups_retrieve", {"out_trade_no": "a/b c"})
    assert built.path == "/api/v1/topups/a%2Fb%20c/"  # a path parameter cannot escape its segment
    assert schema.bundled().build("servers_start_create", {"id": 1}).body is None  # no request body at all


@pytest.mark.parametrize(("operation_id", "params", "message"), [
    ("no_such_operation", {}, "unknown operation"),
    ("servers_retrieve", {}, "needs id"),
    ("servers_retrieve", {"id": 1, "colour": "red"}, "has no parameter 'colour'"),
    ("servers_start_create", {"id": 1, "hard": True}, "has no parameter 'hard'"),
    ("servers_reinstall_create", {"id": 1}, "needs the field(s) image"),
])
def test_a_call_the_schema_does_not_allow_is_refused_before_sending(operation_id, params, message):
    with pytest.raises(errors.UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        schema.bundled().build(operation_id, params)


def test_every_operation_the_sdk_and_cli_use_is_in_the_shipped_schema():
    assert set(sdk_client.OPERATIONS_USED) <= set(schema.bundled().operations)


# --- Signing and headers -------------------------------------------------------------------------------


def test_requests_are_signed_and_mutations_carry_an_idempotency_key(stub, client):
    stub.queue(202, {"server": 7, "operation": "reboot_hard", "instruction_seq": 3})
    assert client.reboot_server(7, hard=True)["operation"] == "reboot_hard"
    stub.queue(200, {"cash_fen": 1})
    client.call("servers_list", page_size=1)
    post, get = stub.received
    assert post.signature_valid and get.signature_valid
    assert (post.method, post.path, post.json) == ("POST", "/api/v1/servers/7/reboot/", {"hard": True})
    assert post.headers["host"] == stub.url.removeprefix("http://")
    signed = post.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed == ["content-type", "host", "idempotency-key", "x-wuji-nonce", "x-wuji-timestamp"]
    assert uuid.UUID(post.headers["idempotency-key"]).version == 4
    assert (get.method, get.query, "idempotency-key" in get.headers) == ("GET", "page_size=1", False)


def test_a_mutation_without_a_body_sends_no_unsigned_content_type(stub, client):
    stub.queue(202, {"server": 7, "operation": "start", "instruction_seq": 4})
    client.start_server(7)
    (start,) = stub.received
    assert (start.method, start.body, start.headers["content-length"]) == ("POST", b"", "0")
    assert "content-type" not in start.headers and start.signature_valid


def test_a_signature_with_the_wrong_secret_does_not_verify(stub):
    stub.queue(200, {})
    Client(stub.url, "AKTEST", "not-the-secret", retries=0).balance()
    assert stub.received[0].signature_valid is False  # the stub's check is a real check


def test_language_is_sent_as_accept_language(stub):
    stub.queue(200, {})
    Client(stub.url, "AKTEST", SECRET, language="en").balance()
    assert stub.received[0].headers["accept-language"] == "en"


# --- Retries --------------------------------------------------------------------------------------------


def test_5xx_is_retried_with_the_same_idempotency_key_and_fresh_signatures(stub, client):
    stub.queue(503, {"code": "unavailable", "message": "busy"}).queue(502, b"<html>bad gateway</html>",
                                                                      {"Content-Type": "text/html"})
    stub.queue(201, {"id": 9})
    assert client.create_order(region="cn-ganzhou", plan="s1", image="debian-12", cycle="monthly",
                               name="web-1") == {"id": 9}
    assert len(stub.received) == 3 and all(r.signature_valid for r in stub.received)
    assert len({r.headers["idempotency-key"] for r in stub.received}) == 1  # one purchase, however many tries
    assert len({r.headers["x-wuji-nonce"] for r in stub.received}) == 3  # a nonce is never reused
    assert len(client.delays) == 2 and all(0 < d <= client.max_backoff for d in client.delays)


def test_a_caller_chosen_idempotency_key_is_sent(stub, client):
    stub.queue(201, {"id": 9})
    client.create_order(idempotency_key="order-2026-11-27", region="hk", plan="s1", image="debian-12",
                        cycle="monthly", name="x")
    assert stub.received[0].headers["idempotency-key"] == "order-2026-11-27"


def test_429_waits_as_long_as_retry_after_asks(stub, client):
    stub.queue(429, {"code": "throttled", "message": "slow down"}, {"Retry-After": "7"}).queue(200, {"cash_fen": 5})
    assert client.balance() == {"cash_fen": 5}
    assert client.delays[0] >= 7


def test_a_retry_after_longer_than_the_cap_is_not_waited_for(stub, client):
    stub.queue(429, {"code": "throttled", "message": "slow down"}, {"Retry-After": "3600"})
    with pytest.raises(errors.RateLimited) as raised:
        client.balance()
    assert (raised.value.retry_after, len(stub.received), client.delays) == (3600, 1, [])


def test_retries_run_out_and_the_last_error_is_raised(stub, client):
    stub.queue(500, {"code": "server_error", "message": "boom", "request_id": "req-1"})
    with pytest.raises(errors.ServerError) as raised:
        client.balance()
    assert (raised.value.status, raised.value.code, raised.value.request_id) == (500, "server_error", "req-1")
    assert len(stub.received) == 1 + client.retries


@pytest.mark.parametrize(("status", "kind"), [(400, errors.BadRequest), (401, errors.AuthenticationFailed),
                                              (402, errors.BadRequest), (403, errors.PermissionDenied),
                                              (404, errors.NotFound), (409, errors.Conflict),
                                              (422, errors.Unprocessable)])
def test_other_4xx_are_raised_at_once_with_the_error_body(stub, client, status, kind):
    stub.queue(status, {"code": "operation_refused", "message": "服务器正在运行。", "field": "hard"},
               {"X-Request-Id": "req-42"})
    with pytest.raises(kind) as raised:
        client.start_server(1)
    error = raised.value
    assert (error.status, error.code, error.message, error.field, error.request_id) == (
        status, "operation_refused", "服务器正在运行。", "hard", "req-42")
    assert len(stub.received) == 1 and client.delays == []


def test_connection_failures_are_retried_then_raised():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = Client(f"http://127.0.0.1:{port}", "AKTEST", SECRET, retries=2, timeout=2)
    delays = []
    client.sleep = delays.append
    with pytest.raises(errors.ConnectionFailed) as raised:
        client.balance()
    assert raised.value.status is None and len(delays) == 2


# --- Pagination ------------------------------------------------------------------------------------------


def test_paginate_follows_next_links_to_the_clients_own_endpoint(stub, client):
    stub.queue(200, {"next": "http://internal.example/api/v1/servers/?cursor=abc", "previous": None,
                     "results": [{"id": 1}, {"id": 2}]})
    stub.queue(200, {"next": None, "previous": "x", "results": [{"id": 3}]})
    assert [s["id"] for s in client.list_servers()] == [1, 2, 3]
    assert [(r.path, r.query, r.signature_valid) for r in stub.received] == [
        ("/api/v1/servers/", "", True), ("/api/v1/servers/", "cursor=abc", True)]


# --- Profiles and output ----------------------------------------------------------------------------------


def test_profiles_are_stored_private_and_side_by_side(tmp_path, monkeypatch):
    monkeypatch.setenv("WUJI_CONFIG_DIR", str(tmp_path / "wuji"))
    for variable in ("WUJI_PROFILE", "WUJI_ENDPOINT", "WUJI_KEY_ID", "WUJI_SECRET", "WUJI_LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    config.save(config.Profile("default", "https://a.example", "AK1", "one"))
    path = config.save(config.Profile("work", "https://b.example", "AK2", "two"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.load().key_id == "AK1"
    monkeypatch.setenv("WUJI_PROFILE", "work")
    assert (config.load().key_id, config.load("default").key_id) == ("AK2", "AK1")
    monkeypatch.setenv("WUJI_SECRET", "from-env")
    assert config.load().secret == "from-env"


def test_tables_align_chinese_text_by_display_width():
    text = output.table([{"name": "网站", "id": 1}, {"name": "web", "id": 22}], ["name", "id"])
    lines = text.splitlines()
    assert lines == ["NAME  ID", "网站  1", "web   22"]  # 网站 is four columns wide, like NAME


# --- The CLI's exit codes (a real process against the stub) ---------------------------------------------


def run_cli(*args, config_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "WUJI_CONFIG_DIR": str(config_dir), "PYTHONPATH": str(REPO), **(env or {})}
    for variable in ("WUJI_PROFILE", "WUJI_ENDPOINT", "WUJI_KEY_ID", "WUJI_SECRET"):
        if variable not in (env or {}):
            environment.pop(variable, None)
    return subprocess.run([sys.executable, "-m", "wuji_sdk.cli", *args], capture_output=True, text=True,
                          env=environment, cwd=REPO, timeout=60)


@pytest.mark.parametrize(("status", "code"), [(400, 1), (402, 1), (401, 3), (403, 3), (404, 4), (409, 5),
                                              (422, 5), (429, 6), (500, 7), (503, 7)])
def test_cli_exit_codes_follow_the_status(stub, tmp_path, status, code):
    stub.queue(status, {"code": "some_code", "message": "refused", "field": None})
    env = {"WUJI_ENDPOINT": stub.url, "WUJI_KEY_ID": "AKTEST", "WUJI_SECRET": SECRET}
    result = run_cli("servers", "start", "1", "--retries", "0", "-o", "json", config_dir=tmp_path, env=env)
    assert result.returncode == code, result.stderr
    assert json.loads(result.stderr)["error"] == {"status": status, "code": "some_code", "message": "refused",
                                                  "field": None, "request_id": None}
    assert wuji_cli.exit_code(errors.error_class(status)("x", status=status)) == code


def test_cli_network_failure_usage_errors_and_missing_profile(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"WUJI_ENDPOINT": f"http://127.0.0.1:{port}", "WUJI_KEY_ID": "AKTEST", "WUJI_SECRET": SECRET}
    assert run_cli("balance", "--retries", "0", config_dir=tmp_path, env=env).returncode == 7
    assert run_cli("servers", "reboot", config_dir=tmp_path, env=env).returncode == 2  # no server id
    assert run_cli("servers", "frobnicate", "1", config_dir=tmp_path, env=env).returncode == 2
    assert run_cli("call", "no_such_operation", config_dir=tmp_path, env=env).returncode == 2
    assert run_cli("call", "servers_retrieve", "id=abc", config_dir=tmp_path, env=env).returncode == 2
    missing = run_cli("balance", config_dir=tmp_path)
    assert missing.returncode == 2 and "wuji-cli configure" in missing.stderr


def test_cli_help_documents_the_exit_codes(tmp_path):
    result = run_cli("--help", config_dir=tmp_path)
    assert result.returncode == 0
    assert all(f"  {code}  " in result.stdout for code in range(8))
    docs = (REPO / "docs" / "cli.md").read_text("utf-8")
    assert all(f"| {code} |" in docs for code in range(8))


def test_configure_takes_a_secret_that_starts_with_a_dash_in_the_equals_form(tmp_path):
    """Keys made before secrets were letters and digits only may start with '-'; `--secret=-…` stores them."""
    result = run_cli("configure", "--profile", "old", "--endpoint", "https://api.wuji.example", "--key-id", "AK1",
                     "--secret=-starts-with-a-dash", config_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "-starts-with-a-dash" in (tmp_path / "credentials").read_text("utf-8")
