"""Issue 7 coverage (decision 0044): the withdrawal rules the portal's page states, over the API."""

import pytest

from wuji.api.tests.conftest import client_for
from wuji.payments import withdrawals

pytestmark = pytest.mark.django_db


def test_rules_and_the_callers_withdrawable_cash(customer, other_customer, settings):
    settings.WUJI_WITHDRAWAL_FEE_BPS = 30
    body = client_for(customer).get("/api/v1/withdrawals/rules/").json()
    assert body == {**withdrawals.rules(), "withdrawable_fen": withdrawals.withdrawable_fen(customer)}
    assert body["fee_bps"] == 30 and body["withdrawable_fen"] == 100_00


def test_rules_route_is_not_read_as_a_withdrawal_id(customer):
    response = client_for(customer).get("/api/v1/withdrawals/rules/")
    assert response.status_code == 200 and "min_fen" in response.json()
