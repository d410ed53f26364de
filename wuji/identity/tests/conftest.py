import pytest

from wuji.core import testing
from wuji.identity import testing as identity_testing

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def applicant(catalogue):
    """A funded customer who has not verified yet."""
    return testing.make_customer("dora@example.com", balance_fen=100_00, verified=False)


@pytest.fixture
def reviewer(db):
    return identity_testing.reviewer()
