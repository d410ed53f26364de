"""Shared pytest fixtures: the demo catalogue on the fake hypervisor, customers, money, and the task queue."""

import pytest

from wuji.core import testing


@pytest.fixture(autouse=True)
def _fresh_fake_hypervisor():
    from wuji.compute.drivers import reset_fake_drivers

    reset_fake_drivers()
    yield
    reset_fake_drivers()


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
