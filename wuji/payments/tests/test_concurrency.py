"""PostgreSQL: the same notice delivered twice at the same moment (the channel retries while the first is
still being handled) credits once — the row lock on the top-up and the ledger's idempotency key."""

import threading

import pytest
from django.db import connection

from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.payments import services as payments
from wuji.payments.choices import NoticeOutcome
from wuji.payments.models import PaymentNotice

from .conftest import alipay_notice


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_parallel_notices_for_one_order_credit_once(alipay, keys):
    testing.load_test_catalogue()
    customer = testing.make_customer("parallel@example.com")
    topup = payments.create_topup(customer=customer, amount_fen=500_00, channel="alipay", ip=None)
    notice = alipay_notice(topup, keys["alipay"])
    barrier = threading.Barrier(2)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait()
            results.append(payments.receive_alipay_notice(dict(notice), ip="203.0.113.9"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [True, True]
    assert ledger.balances(customer)["cash"] == 500_00
    assert sorted(PaymentNotice.objects.values_list("outcome", flat=True)) == sorted(
        [NoticeOutcome.CREDITED, NoticeOutcome.DUPLICATE])
    assert ledger.verify() == []
