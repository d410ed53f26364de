import pytest

from wuji.audit.models import Instruction
from wuji.ledger import services as ledger
from wuji.payments import services as payments

from .conftest import buy

TOPUPS = "/api/v1/topups/"


def pay(customer, out_trade_no: str) -> None:
    """What the sandbox gateway does when the payer pays: its signed notice arrives and is verified."""
    topup = payments.topups_of(customer).get(out_trade_no=out_trade_no)
    payments.handle_sandbox_notice(payments.sandbox_pay(topup))


def test_balance(api, customer):
    ledger.post(key="gift-1", kind="gift", legs=[("expense:gift", -500), (f"cust:{customer.pk}:gift", 500)],
                customer=customer)
    assert api.get("/api/v1/balance/").json() == {
        "cash_fen": 100_00, "gift_fen": 500, "frozen_fen": 0, "available_fen": 105_00, "available_yuan": "105.00",
    }


def test_topup_is_created_with_a_pay_url_and_recorded_as_an_api_instruction(api, customer, sandbox):
    response = api.post(TOPUPS, {"amount_fen": 50_00}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount_fen"], body["amount_yuan"], body["channel"], body["status"]) == (
        5000, "50.00", "sandbox", "pending")
    assert body["pay_url"] == f"http://testserver/wallet/topup/{body['out_trade_no']}/pay/"
    instruction = Instruction.objects.get(action="topup.create")
    assert (instruction.channel, instruction.ip, instruction.owner) == ("api", "203.0.113.7", customer)
    assert ledger.balances(customer)["cash"] == 100_00  # nothing is credited before the payment


def test_paid_topup_is_credited_and_has_nothing_left_to_pay(api, customer, sandbox):
    out_trade_no = api.post(TOPUPS, {"amount_fen": 50_00}, format="json").json()["out_trade_no"]
    pay(customer, out_trade_no)
    body = api.get(f"{TOPUPS}{out_trade_no}/").json()
    assert (body["status"], body["pay_url"]) == ("paid", None)
    assert body["paid_at"]
    assert api.get("/api/v1/balance/").json()["cash_fen"] == 150_00
    assert [t["out_trade_no"] for t in api.get(TOPUPS).json()["results"]] == [out_trade_no]


def test_topup_refused_while_the_sandbox_is_off(api, customer):
    response = api.post(TOPUPS, {"amount_fen": 50_00}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "payment_refused"
    assert not payments.topups_of(customer).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"amount_fen": 99}, "amount_fen"),
    ({"amount_fen": 50_000_001}, "amount_fen"),
    ({"amount_fen": "12.5"}, "amount_fen"),
    ({}, "amount_fen"),
    ({"amount_fen": 100, "channel": "paypal"}, "channel"),
])
def test_bad_topup_input_names_the_field_and_writes_nothing(api, customer, sandbox, body, field):
    response = api.post(TOPUPS, body, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", field)
    assert not payments.topups_of(customer).exists()


def test_transactions_show_the_net_change_of_each_balance_newest_first(api, customer, sandbox):
    ledger.post(key="gift-1", kind="gift", legs=[("expense:gift", -1000), (f"cust:{customer.pk}:gift", 1000)],
                customer=customer, memo="welcome")
    out_trade_no = api.post(TOPUPS, {"amount_fen": 50_00}, format="json").json()["out_trade_no"]
    pay(customer, out_trade_no)
    assert buy(api).status_code == 201

    rows = api.get("/api/v1/transactions/").json()["results"]
    summary = [(t["kind"], t["amount_fen"], t["cash_fen"], t["gift_fen"], t["frozen_fen"]) for t in rows]
    assert summary == [
        ("charge", -2900, -1900, -1000, 0),  # gift is spent first
        ("topup", 5000, 5000, 0, 0),
        ("gift", 1000, 0, 1000, 0),
        ("topup", 10000, 10000, 0, 0),  # the fixture's opening balance
    ]
    assert rows[0]["amount_yuan"] == "-29.00"
    assert rows[1]["memo"] == f"充值 {out_trade_no}"


def test_transactions_are_only_the_customers_own(api, other_api, other_customer):
    assert buy(other_api).status_code == 201
    assert len(api.get("/api/v1/transactions/").json()["results"]) == 1
    assert len(other_api.get("/api/v1/transactions/").json()["results"]) == 2
