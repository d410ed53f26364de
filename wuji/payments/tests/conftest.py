import pytest

from wuji.payments import gateways

from .helpers import ScriptedGateway


@pytest.fixture
def scripted(settings):
    """Two scripted channels, refundable for a year, registered for the test and removed after it."""
    settings.WUJI_REFUND_WINDOW_DAYS = {**settings.WUJI_REFUND_WINDOW_DAYS, "scripted": 365, "scripted2": 30}
    one, two = ScriptedGateway("scripted"), ScriptedGateway("scripted2")
    gateways.register(one)
    gateways.register(two)
    yield one, two
    gateways._GATEWAYS.pop("scripted", None)
    gateways._GATEWAYS.pop("scripted2", None)
