"""The scope table is complete: generated from the URL configuration, so a new mutating endpoint cannot be
forgotten (it would be refused to every key, and this test fails first)."""

from django.urls import URLPattern, URLResolver, get_resolver

from wuji.api.authentication import ApiKeyAuthentication
from wuji.api.permissions import ApiKeyScopes
from wuji.api.scopes import ROUTE_SCOPES, Scope

MUTATING = {"post", "put", "patch", "delete"}


def api_patterns(patterns=None, namespace=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from api_patterns(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and namespace == "api":
            yield pattern


def view_class(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def mutating_methods(callback) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:
        return set(actions) & MUTATING
    cls = view_class(callback)
    return {method for method in MUTATING if cls is not None and hasattr(cls, method)}


def key_routes() -> dict[str, type]:
    """Mutating routes under /api/v1/ that an API key can reach: URL name -> view class."""
    routes = {}
    for pattern in api_patterns():
        cls = view_class(pattern.callback)
        if cls is None or not mutating_methods(pattern.callback):
            continue
        if ApiKeyAuthentication in cls.authentication_classes:
            routes[f"api:{pattern.name}"] = cls
    return routes


def test_every_mutating_route_has_a_scope():
    routes = key_routes()
    assert len(routes) > 40  # the walk finds the API (guards against a test that checks nothing)
    missing = sorted(set(routes) - set(ROUTE_SCOPES))
    assert not missing, f"add these routes to wuji/api/scopes.py ROUTE_SCOPES: {missing}"


def test_every_mutating_route_checks_the_scope():
    unchecked = sorted(name for name, cls in key_routes().items() if ApiKeyScopes not in cls.permission_classes)
    assert not unchecked, f"these views replace the default permissions without ApiKeyScopes: {unchecked}"


def test_the_table_names_only_real_routes_and_scopes():
    assert set(ROUTE_SCOPES) <= set(key_routes())
    assert set(ROUTE_SCOPES.values()) == set(Scope.values)


def test_the_chosen_scopes():
    assert ROUTE_SCOPES["api:server-reboot"] == ROUTE_SCOPES["api:order-list"] == Scope.SERVERS
    assert ROUTE_SCOPES["api:server-snapshot-list"] == ROUTE_SCOPES["api:push-accept"] == Scope.SERVERS
    assert ROUTE_SCOPES["api:topup-list"] == ROUTE_SCOPES["api:withdrawal-list"] == Scope.BILLING
    assert ROUTE_SCOPES["api:fapiao-list"] == ROUTE_SCOPES["api:subscription-change-plan"] == Scope.BILLING
    assert ROUTE_SCOPES["api:ticket-list"] == ROUTE_SCOPES["api:agreement-accept"] == Scope.ACCOUNT
    assert ROUTE_SCOPES["api:identity-individual"] == ROUTE_SCOPES["api:account-data-export"] == Scope.ACCOUNT
