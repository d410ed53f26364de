"""Buying by quarter or year: the confirm page names the cycle and quotes its own price; the order runs that long."""

from wuji.billing.models import Order
from wuji.core import clock, testing

from .conftest import order_data


def test_yearly_purchase_is_quoted_confirmed_and_runs_a_year(alice_client, customer, catalogue):
    choice = {"region": catalogue["region"].pk, "plan": catalogue["plan"].pk, "image": catalogue["image"].pk,
              "cycle": "yearly", "name": "year-1"}
    page = alice_client.get("/buy/confirm/", choice).content.decode()
    assert "按年" in page and "290.00" in page  # ten months' price for a year
    testing.fund(customer, 200_00)  # 100 元 from the fixture + 200 元 covers the 290 元 year
    response = alice_client.post("/buy/confirm/", order_data(catalogue, cycle="yearly", expected_amount=29000))
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.cycle, order.amount_fen) == ("yearly", 29000)
    assert order.server.expires_at == clock.add_months(order.created_at, 12)
