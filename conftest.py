"""Shared pytest fixtures: the demo catalogue on the fake hypervisor, customers, money, and the task queue."""

import pytest

from wuji.core import testing


@pytest.fixture(autouse=True)
def _fresh_fake_hypervisor():
    from wuji.compute.drivers import reset_fake_drivers

    reset_fake_drivers()
    yield
    reset_fake_drivers()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Counters kept in the cache (API rate limits) start at zero in every test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _ledger_stays_sound(request):
    """After every test that used the database, the ledger's invariants hold (`wuji ledger verify`).

    The database fixture is requested from here so that it is torn down after this check. Tests that
    break the ledger on purpose (to show verify catches it) are marked `corrupts_ledger`."""
    names = request.fixturenames
    uses_db = "db" in names or "transactional_db" in names or request.node.get_closest_marker("django_db")
    if not uses_db or request.node.get_closest_marker("corrupts_ledger"):
        yield
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from wuji.ledger import services as ledger

    problems = ledger.verify()
    assert problems == [], f"the ledger is unsound after this test: {problems}"


@pytest.fixture
def catalogue(db):
    return testing.load_test_catalogue()


@pytest.fixture
def customer(catalogue):
    return testing.make_customer("alice@example.com", balance_fen=100_00)


@pytest.fixture
def other_customer(catalogue):
    return testing.make_customer("bob@example.com", balance_fen=100_00)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL's concurrency; on SQLite they are skipped up front."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
