"""Everyone sees only their own (rule 9), on every endpoint: the owner-boundary matrix, generated from the URL
configuration (issue 7, decision 0045).

Every route under /api/v1/ with a path parameter, with every method it answers, is called by user B with
user A's object ids: the answer is 404 with the error body — never 403, never 2xx — and A's objects and
instruction log are as they were. Then A (or, for accepting A's push, its receiver) calls the same URLs and
is not told 404: the ids were real.

OBJECTS names A's object behind each route's parameters. A route missing from it fails the test, so a new
endpoint cannot be added without its boundary being tested.
"""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from wuji.audit import services as audit

from .conftest import client_for
from .world import build_world, third_party, world_settings

API_PREFIX = "api/v1/"
MUTATING = ("post", "put", "patch", "delete")

# route name -> {URL keyword: name of A's object in the world (its pk, or `lookup` below)}
OBJECTS: dict[str, dict[str, str]] = {
    "api:abuse-case-detail": {"pk": "abuse_case"},
    "api:abuse-case-file": {"pk": "abuse_case", "file_pk": "abuse_reply_file"},
    "api:abuse-case-files": {"pk": "abuse_case"},
    "api:api-key-detail": {"pk": "api_key"},
    "api:api-key-revoke": {"pk": "api_key"},
    "api:abuse-case-replies": {"pk": "abuse_case"},
    "api:bank-account-detail": {"pk": "bank_account"},
    "api:bank-transfer-detail": {"pk": "bank_transfer"},
    "api:contract-detail": {"pk": "contract"},
    "api:contract-pdf": {"pk": "contract"},
    "api:fapiao-cancel": {"pk": "fapiao"},
    "api:fapiao-detail": {"pk": "fapiao"},
    "api:fapiao-pdf": {"pk": "fapiao"},
    "api:freeze-appeal": {"pk": "freeze"},
    "api:freeze-detail": {"pk": "freeze"},
    "api:icp-filing-detail": {"pk": "icp_filing"},
    "api:icp-filing-withdraw": {"pk": "icp_filing"},
    "api:instruction-detail": {"seq": "instruction"},
    "api:notice-detail": {"pk": "notice"},
    "api:notice-read": {"pk": "notice"},
    "api:order-detail": {"pk": "order"},
    "api:payg-server-detail": {"server_id": "payg_server"},
    "api:push-accept": {"pk": "push"},
    "api:push-cancel": {"pk": "push"},
    "api:push-decline": {"pk": "push"},
    "api:push-detail": {"pk": "push"},
    "api:server-bind-ip": {"pk": "server"},
    "api:server-console": {"pk": "server"},
    "api:server-detail": {"pk": "server"},
    "api:server-ip": {"pk": "server"},
    "api:server-maintenance": {"pk": "server"},
    "api:server-metrics": {"pk": "server"},
    "api:server-migrations": {"pk": "server"},
    "api:server-reboot": {"pk": "server"},
    "api:server-reinstall": {"pk": "server"},
    "api:server-reset-password": {"pk": "server"},
    "api:server-snapshot-detail": {"server_pk": "server", "pk": "snapshot"},
    "api:server-snapshot-list": {"server_pk": "server"},
    "api:server-snapshot-revert": {"server_pk": "server", "pk": "snapshot"},
    "api:server-start": {"pk": "server"},
    "api:server-stop": {"pk": "server"},
    "api:server-unbind-ip": {"pk": "server"},
    "api:session-detail": {"pk": "session"},
    "api:subscription-auto-renew": {"pk": "subscription"},
    "api:subscription-change-plan": {"pk": "subscription"},
    "api:subscription-change-plan-quote": {"pk": "subscription"},
    "api:subscription-detail": {"pk": "subscription"},
    "api:subscription-renew": {"pk": "subscription"},
    "api:subscription-renewal-quote": {"pk": "subscription"},
    "api:ticket-attachment": {"pk": "ticket", "attachment_pk": "ticket_attachment"},
    "api:ticket-close": {"pk": "ticket"},
    "api:ticket-detail": {"pk": "ticket"},
    "api:ticket-messages": {"pk": "ticket"},
    "api:ticket-rating": {"pk": "ticket"},
    "api:ticket-reopen": {"pk": "ticket"},
    "api:topup-detail": {"out_trade_no": "topup"},
    "api:withdrawal-cancel": {"pk": "withdrawal"},
    "api:withdrawal-detail": {"pk": "withdrawal"},
}

# Routes of public content (anyone may read them; nobody owns them): no boundary to test.
PUBLIC = {"api:agreement-version-detail", "api:announcement-detail"}

# Routes whose rightful caller is the receiver of A's push, not A (A may only cancel the offer).
RECEIVER_ROUTES = {"api:push-accept", "api:push-decline"}

# Objects addressed by something other than their primary key.
LOOKUP = {"topup": "out_trade_no", "instruction": "seq"}

# A body the owner's request would be valid with, so that B is refused for the object, not for the body.
BODIES: dict[str, dict] = {
    "api:abuse-case-replies": {"text": "已处理"},
    "api:freeze-appeal": {"text": "这是我的工资收入。"},
    "api:push-accept": {},
    "api:server-reboot": {"hard": True},
    "api:server-reinstall": {"image": "tiny-linux"},
    "api:server-snapshot-list": {"name": "b-snapshot"},
    "api:subscription-auto-renew": {"auto_renew": False},
    "api:subscription-change-plan": {"plan": "s2"},
    "api:subscription-change-plan-quote": {"plan": "s2"},
    "api:subscription-renew": {"cycle": "monthly"},
    "api:ticket-messages": {"body": "补充说明"},
    "api:ticket-rating": {"rating": 5},
}


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


METHODS = ("get", "post", "put", "patch", "delete")  # HEAD answers as GET does, without a body


def _methods(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)  # a viewset bound by the router: its method -> action map
    if actions:
        return [m for m in METHODS if m in actions]
    view = callback.view_class
    return [m for m in METHODS if hasattr(view, m)]


def _has_parameter(pattern: URLPattern) -> bool:
    return bool(pattern.pattern.converters) or bool(pattern.pattern.regex.groupindex)


def routes_with_parameters() -> list[tuple[str, str, list[str]]]:
    """(route, name, methods) of every /api/v1/ route that has a path parameter."""
    return [(route, name, _methods(pattern)) for route, name, pattern in _walk(get_resolver().url_patterns)
            if route.lstrip("^").startswith(API_PREFIX) and _has_parameter(pattern)]


def test_every_api_route_with_a_path_parameter_names_the_owners_object():
    names = {name for _route, name, _methods in routes_with_parameters()}
    assert len(names) > 40  # the walk finds the routes (a broken walk would make the matrix vacuous)
    missing = sorted(names - set(OBJECTS) - PUBLIC)
    assert not missing, f"add these routes to OBJECTS (and a body to BODIES if needed): {missing}"
    assert not sorted(set(OBJECTS) - names), "OBJECTS names routes that no longer exist"


@pytest.fixture
def world(customer, other_customer, catalogue, settings, tmp_path):
    world_settings(settings, tmp_path)
    return build_world(customer, third_party(), catalogue)


def _url(name: str, world) -> str:
    from django.urls import reverse

    kwargs = {}
    for keyword, object_name in OBJECTS[name].items():
        kwargs[keyword] = getattr(world.objects[object_name], LOOKUP.get(object_name, "pk"))
    return reverse(name, kwargs=kwargs)


def _state(name: str, world) -> dict:
    """A's objects behind the route, as stored: B's request must not change a column."""
    state = {}
    for object_name in OBJECTS[name].values():
        obj = world.objects[object_name]
        state[object_name] = type(obj)._default_manager.filter(pk=obj.pk).values().get()
    return state


def _json(response) -> dict | None:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _call(client, method: str, url: str, body: dict | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": f"matrix-{method}-{url}"} if method in MUTATING else {}
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body or {}, format="json", **headers)


def test_user_b_gets_404_for_each_of_user_as_objects_on_every_route_and_changes_nothing(world, customer,
                                                                                         other_customer):
    alice, bob, carol = client_for(customer), client_for(other_customer), client_for(world.receiver)
    matrix = [(name, method) for _route, name, methods in routes_with_parameters() for method in methods
              if name not in PUBLIC]
    failures = []
    for name, method in matrix:
        url = _url(name, world)
        before, instructions = _state(name, world), audit.instructions_for(customer).count()
        response = _call(bob, method, url, BODIES.get(name))
        body = _json(response)
        if response.status_code != 404 or not body or body.get("code") != "not_found" or "message" not in body:
            failures.append(f"{method.upper()} {url} ({name}) as B: {response.status_code} {response.content[:300]!r}")
        if _state(name, world) != before or audit.instructions_for(customer).count() != instructions:
            failures.append(f"{method.upper()} {url} ({name}) as B changed A's objects or instruction log")
    # The rightful caller reaches every one of these URLs (the ids are real); destructive methods last.
    for name, method in sorted(matrix, key=lambda item: item[1] == "delete"):
        url = _url(name, world)
        response = _call(carol if name in RECEIVER_ROUTES else alice, method, url, BODIES.get(name))
        if response.status_code == 404:
            failures.append(f"{method.upper()} {url} ({name}) as A: 404 {response.content[:200]!r}")
    assert not failures, "\n".join(failures)


LISTS = [
    ("/api/v1/servers/", "id", "server"),
    ("/api/v1/orders/", "id", "order"),
    ("/api/v1/topups/", "out_trade_no", "topup"),
    ("/api/v1/instructions/", "seq", "instruction"),
    ("/api/v1/subscriptions/", "id", "subscription"),
    ("/api/v1/tickets/", "id", "ticket"),
    ("/api/v1/withdrawals/", "id", "withdrawal"),
    ("/api/v1/finance/fapiao/", "id", "fapiao"),
    ("/api/v1/notifications/inbox/", "id", "notice"),
    ("/api/v1/icp-filings/", "id", "icp_filing"),
    ("/api/v1/abuse/cases/", "id", "abuse_case"),
]


def test_other_customers_lists_do_not_show_them(other_customer, world):
    alice, bob = client_for(world.owner), client_for(other_customer)
    for url, key, obj in LISTS:
        expected = getattr(world.objects[obj], LOOKUP.get(obj, "pk"))
        response = bob.get(url)
        assert response.status_code == 200, url
        assert expected not in [row[key] for row in response.json()["results"]], url
        assert expected in [row[key] for row in alice.get(url).json()["results"]], url  # the owner's list does


def test_other_customers_export_does_not_contain_them(other_customer, world):
    export = client_for(other_customer).get("/api/v1/instructions/export.csv").content.decode("utf-8-sig")
    assert "order.place" not in export and "topup.create" not in export
