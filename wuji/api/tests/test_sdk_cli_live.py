"""`wuji-cli`, run as a real process, against the live platform on loopback (pytest-django's live_server), and
the SDK's schema snapshot against the schema the server generates now.

The live server reads committed rows from its own thread, and SQLite test databases are flushed with DELETE,
which the ledger's journal refuses: so on SQLite no money moves here (servers are built through the compute
services, as wuji.compute.tests.console_support does). The purchase through the CLI runs on PostgreSQL.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from wuji.api import services as api_keys
from wuji.api.scopes import Scope
from wuji.audit.models import Instruction
from wuji.billing.models import Order
from wuji.compute.tests.console_support import running_server
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind
from wuji_sdk import cli as wuji_cli
from wuji_sdk import client as sdk_client
from wuji_sdk import schema

REPO = Path(__file__).resolve().parents[3]



def wuji_cli_run(*args: str, config_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WUJI_")}
    env.update(WUJI_CONFIG_DIR=str(config_dir), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "wuji_sdk.cli", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, input=stdin, timeout=120)


def configure(user, url: str, config_dir: Path, profile: str = "live") -> Path:
    """`wuji-cli configure` a profile holding a real key of `user`."""
    key, secret = api_keys.create_key(owner=user, name="cli", ip="127.0.0.1", scopes=Scope.values)
    result = wuji_cli_run("configure", "--profile", profile, "--endpoint", url, "--key-id", key.key_id,
                          "--secret", secret, config_dir=config_dir)
    assert result.returncode == 0, result.stderr
    return config_dir


@pytest.fixture
def server(catalogue, live_server):
    return running_server(catalogue, "cli@example.com")


@pytest.fixture
def configured(server, live_server, tmp_path):
    """A profile `live` with a key of the server's owner."""
    return configure(server.owner, live_server.url, tmp_path)


def test_configure_stores_the_profile_readable_only_by_its_owner(configured):
    credentials = configured / "credentials"
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    assert "[live]" in credentials.read_text("utf-8")


def test_configure_asks_for_what_is_missing(live_server, tmp_path):
    result = wuji_cli_run("configure", config_dir=tmp_path, stdin=f"{live_server.url}\nAKASKED\nasked-secret\n")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "credentials").read_text("utf-8")
    assert "[default]" in text and "AKASKED" in text and "asked-secret" in text


def test_servers_list_as_a_table_and_as_json(configured, server):
    server_id = server.pk
    table = wuji_cli_run("servers", "list", "--profile", "live", config_dir=configured)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "REGION", "PLAN", "IMAGE", "VM_STATE", "TASK_STATE", "POWER_STATE",
                              "PUBLIC_IP"]
    assert row.split()[:6] == [str(server_id), "console", "cn-ganzhou", "s1", "debian-12", "active"]

    listed = wuji_cli_run("--profile", "live", "servers", "list", "--output", "json", config_dir=configured)
    assert listed.returncode == 0, listed.stderr
    servers = json.loads(listed.stdout)
    assert [(s["id"], s["name"], s["vm_state"], s["power_state"]) for s in servers] == [
        (server_id, "console", "active", "running")]


def test_servers_reboot_hard_is_carried_out(configured, server):
    server_id = server.pk
    result = wuji_cli_run("servers", "reboot", str(server_id), "--hard", "--profile", "live", "-o", "json",
                          config_dir=configured)
    assert result.returncode == 0, result.stderr
    accepted = json.loads(result.stdout)
    assert (accepted["server"], accepted["operation"]) == (server_id, "reboot_hard")
    instruction = Instruction.objects.get(seq=accepted["instruction_seq"])
    assert (instruction.action, instruction.channel, instruction.owner) == ("server.reboot_hard", "api",
                                                                            server.owner)
    assert "Idempotency-Key" not in instruction.params  # the key rode in the header, not the body
    testing.run_tasks()
    assert instruction.outcomes.get().result == "succeeded"
    shown = wuji_cli_run("servers", "show", str(server_id), "--profile", "live", config_dir=configured)
    assert shown.returncode == 0 and "task_state" in shown.stdout and "running" in shown.stdout


def test_balance_transactions_and_orders(configured):
    balance = wuji_cli_run("balance", "--profile", "live", "-o", "json", config_dir=configured)
    assert balance.returncode == 0, balance.stderr
    assert json.loads(balance.stdout) == {"cash_fen": 0, "gift_fen": 0, "frozen_fen": 0, "available_fen": 0,
                                          "available_yuan": "0.00"}
    table = wuji_cli_run("balance", "--profile", "live", config_dir=configured)
    assert table.returncode == 0 and table.stdout.split() == [
        "cash_fen", "0", "gift_fen", "0", "frozen_fen", "0", "available_fen", "0", "available_yuan", "0.00"]
    for command in ("transactions", "orders"):
        listed = wuji_cli_run(command, "list", "--profile", "live", "-o", "json", config_dir=configured)
        assert (listed.returncode, json.loads(listed.stdout)) == (0, [])
        assert wuji_cli_run(command, "list", "--profile", "live", config_dir=configured).stdout == "(none)\n"


def test_call_any_operation_of_the_schema(configured, server):
    server_id = server.pk
    result = wuji_cli_run("call", "servers_retrieve", f"id={server_id}", "--profile", "live", "-o", "json",
                          config_dir=configured)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == server_id
    quote = wuji_cli_run("call", "catalog_quote_retrieve", "region=cn-ganzhou", "plan=s1", "cycle=monthly",
                         "--profile", "live", "-o", "json", config_dir=configured)
    assert quote.returncode == 0 and json.loads(quote.stdout)["amount_fen"] > 0


def test_exit_codes_against_the_live_server(configured, server, catalogue, live_server, tmp_path):
    server_id, others = server.pk, running_server(catalogue, "other@example.com").pk

    missing = wuji_cli_run("servers", "show", "999999", "--profile", "live", "-o", "json", config_dir=configured)
    assert missing.returncode == wuji_cli.EXIT_NOT_FOUND
    assert json.loads(missing.stderr)["error"]["code"] == "not_found"
    assert wuji_cli_run("servers", "reboot", str(others), "--profile", "live",  # someone else's: not found
                        config_dir=configured).returncode == wuji_cli.EXIT_NOT_FOUND
    running = wuji_cli_run("servers", "start", str(server_id), "--profile", "live", config_dir=configured)
    assert running.returncode == wuji_cli.EXIT_CONFLICT and "operation_refused" in running.stderr
    invalid = wuji_cli_run("servers", "reinstall", str(server_id), "--image", "no-such-os", "--profile", "live",
                           config_dir=configured)
    assert invalid.returncode == wuji_cli.EXIT_REFUSED and "field=image" in invalid.stderr
    usage = wuji_cli_run("servers", "reboot", "--profile", "live", config_dir=configured)
    assert usage.returncode == wuji_cli.EXIT_USAGE and "usage:" in usage.stderr

    key, _secret = api_keys.create_key(owner=server.owner, name="wrong", ip="127.0.0.1")
    wrong = wuji_cli_run("configure", "--endpoint", live_server.url, "--key-id", key.key_id, "--secret", "nope",
                         config_dir=tmp_path / "wrong")
    assert wrong.returncode == 0
    assert wuji_cli_run("balance", config_dir=tmp_path / "wrong").returncode == wuji_cli.EXIT_AUTH
    recorded = Instruction.objects.filter(channel="api").values_list("action", "result")
    assert list(recorded) == [("server.start", "refused")]  # the one refusal that reached a service


@pytest.mark.postgres  # money moves: the ledger's journal is truncated only on PostgreSQL
def test_a_purchase_through_the_cli_is_charged_once(catalogue, live_server, tmp_path):
    customer = testing.make_customer("buyer@example.com", balance_fen=100_00)
    configured = configure(customer, live_server.url, tmp_path)
    fields = ["region=cn-ganzhou", "plan=s1", "image=debian-12", "cycle=monthly", "name=from-cli"]
    bought = wuji_cli_run("call", "orders_create", *fields, "--profile", "live", "-o", "json", config_dir=configured)
    assert bought.returncode == 0, bought.stderr
    order = json.loads(bought.stdout)
    assert order["root_password"] and Order.objects.get(pk=order["id"]).customer == customer
    balances = ledger.balances(customer)
    balance = json.loads(wuji_cli_run("balance", "--profile", "live", "-o", "json", config_dir=configured).stdout)
    assert balance["available_fen"] == balances[AccountKind.CASH] + balances[AccountKind.GIFT] == 100_00 - order[
        "amount_fen"]
    transactions = wuji_cli_run("transactions", "list", "--profile", "live", "-o", "json", config_dir=configured)
    assert [t["kind"] for t in json.loads(transactions.stdout)] == ["charge", "topup"]
    testing.run_tasks()
    servers = json.loads(wuji_cli_run("servers", "list", "--profile", "live", "-o", "json",
                                      config_dir=configured).stdout)
    assert [(s["id"], s["vm_state"]) for s in servers] == [(order["server"], "active")]


# DRF bounds model integer fields by the database's column range (SQLite int64, PostgreSQL int32/int16), so
# the generated schema differs between the two in exactly these bounds; the snapshot is compared without them.
_COLUMN_BOUNDS = {2**63 - 1, -(2**63), 2**31 - 1, -(2**31), 2**15 - 1, -(2**15)}


def without_column_bounds(node):
    if isinstance(node, list):
        return [without_column_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: without_column_bounds(value) for key, value in node.items()}
    if node.get("type") == "integer":
        for bound in ("minimum", "maximum"):
            if node.get(bound) in _COLUMN_BOUNDS:
                del node[bound]
        if node.get("format") in ("int32", "int64"):
            del node["format"]
    return node


def test_the_shipped_schema_is_the_one_the_server_generates(db, tmp_path):
    """`make sdk-schema` regenerates wuji_sdk/openapi.json; this fails when the API changed without it."""
    generated = tmp_path / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(generated))
    shipped = json.loads((REPO / "wuji_sdk" / "openapi.json").read_text("utf-8"))
    assert without_column_bounds(shipped) == without_column_bounds(json.loads(generated.read_text("utf-8"))), (
        "the SDK's schema snapshot is stale: run `make sdk-schema`")
    assert set(sdk_client.OPERATIONS_USED) <= set(schema.bundled().operations)
