"""API throughput and latency: an authenticated `GET /api/v1/servers/` (20 rows) under concurrent clients on
gunicorn, beside a baseline measured in the same run: a bare Django view returning the same 20 rows from the
same table (bench/api_baseline.py), on the same gunicorn settings.

    .venv/bin/python bench/api.py [--clients 16] [--seconds 10] [--workers N]      # SQLite (throw-away file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuji_bench .venv/bin/python bench/api.py

Goal (issue 8): at least 0.6 of the baseline's throughput, p99 under 100 ms. Clients are threads with
keep-alive connections on this machine, so they share its cores with the servers: compare the two rows,
not the absolute figures.
"""

import os

from _common import (  # bench/ is the script's directory
    ROOT,
    arguments,
    measure,
    populate_owner,
    prepare_database,
    print_row,
)


def populate(rows: int) -> tuple[int, str, str]:
    """A customer with `rows` servers and an API key. Returns (owner id, key id, secret)."""
    from wuji.api import services as api

    owner = populate_owner(rows)  # has accepted the agreement: keys of an owner who has not are refused
    key, secret = api.create_key(owner=owner, name="bench", ip=None)
    return owner.pk, key.key_id, secret


def signer(key_id: str, secret: str, path: str):
    """Headers for one signed GET of `path` (a new nonce each time, as a real client sends)."""
    from wuji_sdk import signing

    def headers(port: int) -> dict:
        return signing.sign(key_id=key_id, secret=secret, method="GET", path=path,
                            headers={"host": f"127.0.0.1:{port}"})

    return headers


def has_results(body: bytes) -> bool:
    return b'"results"' in body


def main() -> None:
    args = arguments()

    vendor = prepare_database()
    from django.db import connection

    owner_id, key_id, secret = populate(args.rows)
    connection.close()
    env = {**os.environ, "BENCH_OWNER_ID": str(owner_id), "PYTHONPATH": str(ROOT)}

    api = measure("GET /api/v1/servers/ (signed, DRF)", "wuji.wsgi:application", "/api/v1/servers/",
                  signer(key_id, secret, "/api/v1/servers/"), args, env, has_results)
    base = measure("baseline: bare Django view", "bench.api_baseline:application", "/baseline/servers/",
                   lambda port: {}, args, env, has_results)
    print(f"database: {vendor}, rows: {args.rows}, clients: {args.clients}, gunicorn workers: {args.workers}, "
          f"{args.seconds:.0f} s each")
    print_row(api, base)
    print_row(base)
    ratio = api["rps"] / base["rps"] if base["rps"] else 0.0
    print(f"API / baseline throughput: {ratio:.2f} (goal ≥ 0.60); API p99 {api['p99']:.1f} ms (goal < 100 ms)")


if __name__ == "__main__":
    main()
