"""Proof that the schema is accurate (issue 7, decision 0045): schemathesis reads the live schema from a live
server on loopback and calls every operation with data generated from it, as a customer who owns one of
everything (the owner-boundary world), signed in with a browser session (cookie + CSRF header, so this
test does not depend on how API keys authenticate).

Path parameters are pinned to the customer's real objects (the table of test_owner_matrix), so operations
reach their objects rather than only 404; bodies, query parameters and headers are generated. Every answer
must be no 5xx, a documented status code, a documented content type and headers, and a body that matches
the documented schema.

Bounded for CI (two shared cores): a few examples per operation, derandomized (the same examples every
run), no Hypothesis database.
"""

import time

import pytest
import requests
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.urls import resolve
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from .test_owner_matrix import LOOKUP, OBJECTS, PUBLIC
from .world import build_world, third_party, world_settings

# The live server reads from its own thread, so the data is committed (transactional test); its teardown
# empties the tables, which the ledger's append-only triggers allow only to PostgreSQL's TRUNCATE: this runs
# in the PostgreSQL leg of CI (`make test-postgres`), like the project's other transactional tests.
pytestmark = [pytest.mark.schemathesis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EXAMPLES_PER_OPERATION = 6
NEGATIVE_EXAMPLES = 3  # invalid input: answered with a documented 4xx, never a 5xx
BUDGET_SECONDS = 180

# Operations not exercised, with the reason. Everything else in the schema is.
EXCLUDED: dict[str, str] = {}


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
            response_schema_conformance]


def path_parameters(path: str, world) -> dict[str, str]:
    """The owner's object ids for a schema path such as /api/v1/servers/{server_pk}/snapshots/{id}/: the path
    is resolved by Django with placeholders, and its URL keywords looked up in the owner matrix's table."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if not names:
        return {}
    match = resolve(path.format(**dict.fromkeys(names, "1")))
    route = f"{':'.join(match.namespaces)}:{match.url_name}"
    if route in PUBLIC:
        return {}  # public content nobody owns: generated values (a documented 404, or a public row)
    objects = [world.objects[name] for name in OBJECTS[route].values()]
    lookups = [LOOKUP.get(name, "pk") for name in OBJECTS[route].values()]
    return {name: str(getattr(obj, attr)) for name, obj, attr in zip(names, objects, lookups, strict=True)}


def browser_session(user, base_url: str) -> requests.Session:
    """A requests session signed in as `user` the way a browser is: session cookie plus CSRF cookie and header
    (DRF's SessionAuthentication checks CSRF on unsafe methods)."""
    from django.conf import settings as django_settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    request = RequestFactory().get("/")
    token = get_token(request)
    session = requests.Session()
    session.cookies.set(django_settings.SESSION_COOKIE_NAME, client.cookies[django_settings.SESSION_COOKIE_NAME].value)
    session.cookies.set(django_settings.CSRF_COOKIE_NAME, request.META["CSRF_COOKIE"])
    session.headers.update({"X-CSRFToken": token, "Referer": base_url + "/", "Accept-Language": "zh-hans"})
    return session


def exercise(operation, world, session, base_url: str, checks, mode=None, examples=EXAMPLES_PER_OPERATION) -> None:
    from schemathesis import GenerationMode

    strategy = operation.as_strategy(mode or GenerationMode.POSITIVE,
                                     path_parameters=path_parameters(operation.path, world))

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=strategy)
    def run(case):
        case.call_and_validate(base_url=base_url, session=session, checks=checks, timeout=30)

    try:
        run()
    except Unsatisfiable:
        if mode is None:  # negative data may not exist (every input pinned or free-form); positive must
            raise


def test_every_operation_answers_as_its_schema_says(live_server, customer, catalogue, settings, tmp_path):
    import schemathesis
    from schemathesis import GenerationMode

    world_settings(settings, tmp_path)
    world = build_world(customer, third_party(), catalogue)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/", timeout=60)
    # Authenticate with the session only: no generated Authorization header (a random API key is a 401).
    schema.config.generation.update(with_security_parameters=False)
    session = browser_session(customer, live_server.url)
    # The session is signed in and passes CSRF, or every answer would be a (documented) 401/403 and prove nothing.
    assert session.get(f"{live_server.url}/api/v1/account/", timeout=30).json()["email"] == customer.email
    read = session.post(f"{live_server.url}/api/v1/notifications/inbox/read-all/", timeout=30,
                        headers={"Idempotency-Key": "schemathesis-probe"})
    assert read.status_code == 200 and read.json()["marked"] >= 1, read.text
    checks = _checks()
    started, failures, exercised = time.monotonic(), [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in EXCLUDED:
            continue
        try:
            exercise(operation, world, session, live_server.url, checks)
            exercise(operation, world, session, live_server.url, checks, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
        except (Exception, BaseExceptionGroup) as exc:  # each failing operation, all reported together
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
        exercised += 1
    elapsed = time.monotonic() - started
    assert exercised > 100
    assert not failures, f"{len(failures)} of {exercised} operations failed:\n\n" + "\n\n".join(failures)
    assert elapsed < BUDGET_SECONDS * 2, f"schemathesis took {elapsed:.0f} s; lower EXAMPLES_PER_OPERATION"
