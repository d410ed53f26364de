"""Portal throughput and latency: a signed-in customer's server list (`GET /servers/`, 20 servers) and server
page (`GET /servers/<id>/`) under concurrent keep-alive clients on gunicorn, each beside a baseline measured in
the same run: a bare Django view rendering the same rows from the same table through a minimal template
(bench/portal_baseline.py), on the same gunicorn settings. Same method as bench/api.py.

    .venv/bin/python bench/portal.py [--clients 16] [--seconds 10] [--workers N]      # SQLite (throw-away file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuji_bench .venv/bin/python bench/portal.py

The customer signs in once (a real Django session, as the sign-in form makes it) and every request carries the
session cookie, as a browser does. Clients share the machine's cores with the servers: compare the rows with
their baselines, not the absolute figures.
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


def sign_in(user) -> dict:
    """The cookies of a browser in which `user` has signed in: Django's session (made by `login()`, so the
    sign-in signals and session bookkeeping run as they do for the sign-in form) and a CSRF cookie."""
    from django.conf import settings
    from django.test import Client
    from django.utils.crypto import get_random_string

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: get_random_string(32)}


def cookie_header(cookies: dict):
    value = "; ".join(f"{name}={token}" for name, token in cookies.items())
    return lambda port: {"Cookie": value}


def shows(*names: str):
    """The check of a page's body: every one of the servers' names is on it (not a sign-in or agreement page)."""
    needles = [f">{name}<".encode() for name in names]
    return lambda body: all(needle in body for needle in needles)


def main() -> None:
    args = arguments()

    vendor = prepare_database()
    from django.db import connection

    owner = populate_owner(args.rows)
    servers = list(owner.servers.order_by("pk").values_list("pk", "name"))
    one_pk, one_name = servers[0]
    cookies = cookie_header(sign_in(owner))
    connection.close()
    env = {**os.environ, "BENCH_OWNER_ID": str(owner.pk), "PYTHONPATH": str(ROOT)}
    every_name = shows(*(name for _pk, name in servers))

    def anonymous(port: int) -> dict:
        return {}

    page_list = measure("GET /servers/ (signed in, portal)", "wuji.wsgi:application", "/servers/",
                        cookies, args, env, every_name)
    base_list = measure("baseline: bare view, minimal template", "bench.portal_baseline:application",
                        "/baseline/pages/servers/", anonymous, args, env, every_name)
    page_one = measure(f"GET /servers/{one_pk}/ (signed in, portal)", "wuji.wsgi:application", f"/servers/{one_pk}/",
                       cookies, args, env, shows(one_name))
    base_one = measure("baseline: bare view, minimal template", "bench.portal_baseline:application",
                       f"/baseline/pages/servers/{one_pk}/", anonymous, args, env, shows(one_name))
    print(f"database: {vendor}, rows: {args.rows}, clients: {args.clients}, gunicorn workers: {args.workers}, "
          f"{args.seconds:.0f} s each")
    print_row(page_list, base_list)
    print_row(base_list)
    print_row(page_one, base_one)
    print_row(base_one)


if __name__ == "__main__":
    main()
