import pytest

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.compute import services as compute
from wuji.core import testing
from wuji.ledger import services as ledger

from .conftest import buy, order_body

ORDERS = "/api/v1/orders/"


def test_order_is_201_with_its_server_and_the_root_password_once(api, customer):
    response = buy(api, key="first")
    assert response.status_code == 201, response.json()
    body = response.json()
    order = billing.orders_of(customer).get()
    assert body["id"] == order.pk and body["server"] == order.server_id
    assert (body["region"], body["plan"], body["image"], body["cycle"]) == ("cn-ganzhou", "s1", "debian-12", "monthly")
    assert (body["amount_fen"], body["amount_yuan"]) == (2900, "29.00")
    assert len(body["root_password"]) == 16
    assert ledger.balances(customer)["cash"] == 100_00 - 2900
    placed = Instruction.objects.get(action="order.place")
    assert (placed.channel, placed.ip) == ("api", "203.0.113.7")
    assert body["root_password"] not in str(placed.params)

    detail = api.get(f"{ORDERS}{order.pk}/").json()
    assert "root_password" not in detail
    assert api.get(ORDERS).json()["results"] == [detail]


def test_retry_with_the_same_key_returns_the_first_order_without_the_password(api, customer):
    first = buy(api, key="same").json()
    again = buy(api, key="same")
    assert again.status_code == 201  # the stored response, replayed
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == {**first, "root_password": None}
    assert ledger.balances(customer)["cash"] == 100_00 - 2900
    assert billing.orders_of(customer).count() == 1


def test_reusing_a_key_for_another_purchase_is_422(api, customer):
    buy(api, key="same")
    response = buy(api, key="same", plan="s2")
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert billing.orders_of(customer).count() == 1


def test_keys_are_per_customer(api, other_api, customer, other_customer):
    assert buy(api, key="k").status_code == 201
    assert buy(other_api, key="k").status_code == 201
    assert billing.orders_of(other_customer).count() == 1


def test_order_without_idempotency_key_is_400_and_buys_nothing(api, customer):
    response = api.post(ORDERS, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("idempotency_key_required", "Idempotency-Key")
    assert not billing.orders_of(customer).exists()


@pytest.mark.parametrize("key", ["has space", "x" * 101, "中文键"])
def test_malformed_idempotency_key_is_400(api, customer, key):
    response = api.post(ORDERS, order_body(), format="json", HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"))
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert not billing.orders_of(customer).exists()


def test_insufficient_balance_is_402_and_writes_nothing(catalogue):
    from .conftest import client_for

    poor = testing.make_customer("poor@example.com", balance_fen=1000)
    response = buy(client_for(poor))
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "insufficient_balance"
    assert "19.00" in body["message"]  # the shortfall
    assert ledger.balances(poor)["cash"] == 1000
    assert not billing.orders_of(poor).exists() and not compute.servers_of(poor).exists()


@pytest.mark.parametrize(("override", "field"), [
    ({"region": "mars-1"}, "region"),
    ({"plan": "s99"}, "plan"),
    ({"image": "windows-95"}, "image"),
    ({"cycle": "weekly"}, "cycle"),
    ({"name": "x" * 65}, "name"),
    ({"expected_amount_fen": -1}, "expected_amount_fen"),
])
def test_bad_input_is_400_naming_the_field_and_charges_nothing(api, customer, override, field):
    response = buy(api, **override)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", field)
    assert ledger.balances(customer)["cash"] == 100_00
    assert not Instruction.objects.filter(action="order.place").exists()


def test_sold_out_region_is_409_purchase_refused(api, customer):
    response = buy(api, region="hk")  # on sale, but no compute node yet
    assert response.status_code == 409
    assert response.json()["code"] == "purchase_refused"
    assert ledger.balances(customer)["cash"] == 100_00


def test_changed_price_is_409(api, customer):
    response = buy(api, expected_amount_fen=2500)
    assert response.status_code == 409
    assert "价格已变更" in response.json()["message"]
    assert ledger.balances(customer)["cash"] == 100_00


def test_confirmed_price_is_accepted(api):
    assert buy(api, expected_amount_fen=2900).status_code == 201



@pytest.mark.parametrize(("language", "chinese"), [("zh-hans", True), ("en", False)])
def test_error_messages_follow_accept_language(api, language, chinese):
    response = api.post(ORDERS, order_body(region="mars-1"), format="json", HTTP_ACCEPT_LANGUAGE=language,
                        HTTP_IDEMPOTENCY_KEY="k")
    message = response.json()["message"]
    assert "mars-1" in message
    assert any("\u4e00" <= char <= "\u9fff" for char in message) is chinese
