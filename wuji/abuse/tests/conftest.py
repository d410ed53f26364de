"""Abuse test helpers: a server holding a public IP (bought the real way), staff roles, files."""

import dataclasses

import pytest
from django.core.cache import cache

from wuji.compute.tests.test_operations import active_server
from wuji.core import clock
from wuji.network.tests.test_network import make_pool
from wuji.payments.tests.helpers import staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4 evidence"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"
    cache.clear()
    clock.reset()
    yield
    clock.reset()
    cache.clear()


@pytest.fixture
def officer(db):
    return staff("abuse@wuji.test", "compliance")


@pytest.fixture
def server(customer, catalogue):
    """Alice's running server with 203.0.113.2 (the first address of the pool)."""
    make_pool(catalogue["region"])
    return active_server(customer, catalogue)


@dataclasses.dataclass(frozen=True)
class Signal:
    rule: str
    server_id: int
    summary: str
    evidence: list
    action: str = "none"
