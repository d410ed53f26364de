"""`wuji backup` / `wuji restore` (clause 6.7): a restored copy passes `ledger verify` and `audit verify`.

The restored database is always a fresh one reached by a separate `wuji` process (DATABASE_URL pointing at
it), so the checks read the copy, never the live database. The SQLite leg runs on a file database this test
creates and migrates itself: the in-memory test database cannot be shared with another process, and the
online backup API cannot read a database while the test's own transaction holds it. The PostgreSQL leg
backs up the test database (committed data, hence a transactional test) into a new database it drops.
"""

import json
import os
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

import wuji
from wuji.core import backup, testing
from wuji.ledger import services as ledger

REPO = Path(wuji.__file__).resolve().parents[1]
TOP_UP_FEN = 123_45

# Run inside a `wuji shell`: both verifications (exit non-zero on a problem), then the balances as JSON.
CHECK = ("from django.core.management import call_command; "
         "call_command('ledger', 'verify'); call_command('audit', 'verify'); "
         "from wuji.core.tests.test_backup import customer_balances; import json; "
         "print('BALANCES=' + json.dumps(customer_balances()))")
SEED = ("from wuji.core import testing; testing.load_test_catalogue(); "
        f"testing.make_customer('backup@example.cn', balance_fen={TOP_UP_FEN}, verified=False)")


def customer_balances() -> dict[str, dict[str, int]]:
    return {user.email: ledger.balances(user) for user in get_user_model().objects.order_by("email")}


def wuji_command(database_url: str, *args: str, copy_command: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "wuji.settings",
           "PYTHONPATH": str(REPO), "WUJI_BACKUP_COPY_COMMAND": copy_command}
    env.pop("WUJI_TEST_SQLITE_NAME", None)
    return subprocess.run([sys.executable, "-m", "wuji.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def checked_balances(database_url: str) -> dict:
    """Run the ledger and audit verifications on `database_url` and return its customers' balances."""
    out = ok(wuji_command(database_url, "shell", "-c", CHECK))
    assert "ledger verified" in out and "instruction chain verified" in out
    return json.loads(out.split("BALANCES=", 1)[1])


def flipped_copy(path: Path, directory: Path) -> Path:
    """A copy of a backup (and its manifest) with one byte in the middle inverted."""
    directory.mkdir()
    damaged = directory / path.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    backup.manifest_path_of(damaged).write_bytes(backup.manifest_path_of(path).read_bytes())
    return damaged


def test_sqlite_backup_restores_into_a_fresh_file_that_verifies(tmp_path):
    live, restored = f"sqlite:///{tmp_path / 'live.sqlite3'}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    ok(wuji_command(live, "migrate", "--no-input", "-v", "0"))
    ok(wuji_command(live, "shell", "-c", SEED))
    offsite = tmp_path / "offsite"
    offsite.mkdir()
    out = ok(wuji_command(live, "backup", "--dir", str(tmp_path / "backups"),
                          copy_command=f"cp {{path}} {shlex.quote(str(offsite))}"))
    assert "copied with WUJI_BACKUP_COPY_COMMAND" in out
    [path] = (tmp_path / "backups").glob("wuji-*Z.sqlite3")
    manifest = json.loads(backup.manifest_path_of(path).read_text())
    assert manifest["engine"] == "sqlite" and manifest["sha256"] == backup.sha256(path)
    assert manifest["size"] == path.stat().st_size and manifest["migrations"]["ledger"].startswith("00")
    assert sorted(p.name for p in offsite.iterdir()) == [path.name, path.name + ".json"]
    failed = wuji_command(live, "backup", "--dir", str(tmp_path / "backups2"), copy_command="false {path}")
    assert failed.returncode != 0 and "only local, copy command failed" in failed.stderr
    assert "exit status 1" in failed.stderr and list((tmp_path / "backups2").glob("wuji-*Z.sqlite3"))

    ok(wuji_command(restored, "restore", str(path)))
    balances = checked_balances(restored)
    assert balances == checked_balances(live)
    assert balances["backup@example.cn"]["cash"] == TOP_UP_FEN

    again = wuji_command(restored, "restore", str(path))
    assert again.returncode != 0 and "not empty" in again.stderr and "--force" in again.stderr
    ok(wuji_command(restored, "restore", "--force", str(path)))
    assert checked_balances(restored) == balances

    fresh = tmp_path / "fresh.sqlite3"
    damaged = wuji_command(f"sqlite:///{fresh}", "restore", str(flipped_copy(path, tmp_path / "damaged")))
    assert damaged.returncode != 0 and "checksum mismatch" in damaged.stderr
    assert not fresh.exists() or fresh.stat().st_size == 0  # nothing was touched


def database_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_backup_restores_into_a_fresh_database_that_verifies(tmp_path, settings):
    testing.load_test_catalogue()
    testing.make_customer("backup@example.cn", balance_fen=TOP_UP_FEN, verified=False)
    expected = customer_balances()
    settings.WUJI_BACKUP_COPY_COMMAND = ""
    call_command("backup", dir=tmp_path)
    [path] = tmp_path.glob("wuji-*Z.pgdump")
    assert json.loads(backup.manifest_path_of(path).read_text())["engine"] == "postgresql"

    name = f"wuji_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            damaged = wuji_command(database_url(name), "restore", str(flipped_copy(path, tmp_path / "damaged")))
            assert damaged.returncode != 0 and "checksum mismatch" in damaged.stderr
            ok(wuji_command(database_url(name), "restore", str(path)))
            assert checked_balances(database_url(name)) == expected
            again = wuji_command(database_url(name), "restore", str(path))
            assert again.returncode != 0 and "not empty" in again.stderr
            ok(wuji_command(database_url(name), "restore", "--force", str(path)))
            assert checked_balances(database_url(name)) == expected
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
