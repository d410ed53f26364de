"""Backups of the platform database: a consistent snapshot, a manifest with its checksum, an optional copy.

SQLite: the online backup API copies the live (WAL) database page by page under a read transaction, so the
snapshot is consistent while the platform keeps running; copying the file could catch a half-written state.
PostgreSQL: `pg_dump --format=custom` runs in one repeatable-read transaction; `pg_restore` loads it.
"""

import hashlib
import json
import os
import shlex
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from wuji.core import clock

SQLITE, POSTGRESQL = "sqlite", "postgresql"
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message says why and what to do."""


def engine() -> str:
    vendor = connection.vendor
    if vendor not in (SQLITE, POSTGRESQL):
        raise BackupError(f"unsupported database engine: {vendor}")
    return vendor


def create(directory: Path) -> tuple[Path, Path]:
    """Snapshot the configured database into `directory`; return the backup file and its manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    kind = engine()
    created = clock.now()
    suffix = "sqlite3" if kind == SQLITE else "pgdump"
    path = directory / f"wuji-{created.strftime('%Y%m%dT%H%M%SZ')}.{suffix}"
    if path.exists():
        raise BackupError(f"{path} already exists; wait a second and try again")
    (_sqlite_backup if kind == SQLITE else _pg_dump)(path)
    manifest = {
        "engine": kind,
        "created_at": created.isoformat(),
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": sha256(path),
        "migrations": latest_migrations(),
    }
    manifest_path = manifest_path_of(path)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path, manifest_path


def _sqlite_backup(path: Path) -> None:
    _sqlite_copy(sqlite3.connect(connection.settings_dict["NAME"]), path)


def _sqlite_copy(source: sqlite3.Connection, target_path: Path | str) -> None:
    """Copy every page of `source` into `target_path` in one step (one read transaction: consistent)."""
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _pg_dump(path: Path) -> None:
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", *_pg_target_args()], "pg_dump")


def restore(path: Path, *, force: bool = False) -> dict:
    """Verify `path` against its manifest, then load it into the configured (empty) database."""
    manifest = verify(path)
    kind = engine()
    if manifest["engine"] != kind:
        raise BackupError(f"this backup is from {manifest['engine']}, the configured database is {kind}")
    if not force and has_tables():
        raise BackupError("the configured database is not empty: restore into a fresh database, "
                          "or pass --force to replace its contents")
    connection.close()
    if kind == SQLITE:
        _sqlite_restore(path)
    else:
        clean = ["--clean", "--if-exists"] if force else []
        _run(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", *clean,
              *_pg_target_args(), str(path)], "pg_restore")
    return manifest


def _sqlite_restore(path: Path) -> None:
    _sqlite_copy(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True), connection.settings_dict["NAME"])


def verify(path: Path) -> dict:
    """The manifest of `path`, after checking the file's size and SHA-256 against it."""
    manifest_path = manifest_path_of(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    if not manifest_path.is_file():
        raise BackupError(f"no manifest at {manifest_path}: cannot check the backup, refusing to restore")
    manifest = json.loads(manifest_path.read_text())
    actual = sha256(path)
    if actual != manifest["sha256"] or path.stat().st_size != manifest["size"]:
        raise BackupError(f"checksum mismatch: {path} is damaged or not the file its manifest describes "
                          f"(expected sha256 {manifest['sha256']}, found {actual}); nothing was restored")
    return manifest


def copy(paths: list[Path], template: str) -> None:
    """Run the configured copy command once per file; a non-zero exit is an error naming the file."""
    for path in paths:
        args = [part.format(path=path) for part in shlex.split(template)]
        result = subprocess.run(args, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"copy command failed for {path} (exit status {result.returncode}): "
                              f"{result.stderr.strip()}")


def has_tables() -> bool:
    with connection.cursor() as cursor:
        return bool(connection.introspection.table_names(cursor))


def latest_migrations() -> dict[str, str]:
    """The latest applied migration per app: which code version the backup belongs to."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path_of(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _pg_target_args() -> list[str]:
    db = connection.settings_dict
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    return args


def _run(args: list[str], tool: str) -> None:
    password = connection.settings_dict.get("PASSWORD")
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    try:
        result = subprocess.run(args, capture_output=True, text=True, env=env)
    except FileNotFoundError as exc:
        raise BackupError(f"{tool} is not installed (Debian package postgresql-client)") from exc
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit status {result.returncode}): {result.stderr.strip()}")
