import pytest
from django.core.cache import cache

from wuji.accounts.sms import log as sms_log


@pytest.fixture(autouse=True)
def _clean_outboxes_and_rate_limits():
    sms_log.outbox.clear()
    cache.clear()  # allauth's rate limits and used-TOTP markers live in the cache
    yield
    sms_log.outbox.clear()
    cache.clear()
