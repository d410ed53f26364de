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
