"""The operator console: staff see customers, orders, servers, nodes, ledger and instructions; the ledger and
the instruction log are read-only there."""

import pytest
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.billing import services as billing
from wuji.core import testing


@pytest.fixture
def staff_client(client, catalogue):
    accounts.create_staff(email="ops@example.com", password=testing.PASSWORD)
    client.login(email="ops@example.com", password=testing.PASSWORD)
    return client


@pytest.fixture
def purchase(customer, catalogue):
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="web", idempotency_key="c",
                                   channel="web", ip="127.0.0.1")
    testing.run_tasks()
    return order


@pytest.mark.parametrize("model", ["accounts/user", "billing/order", "compute/server", "compute/node",
                                   "ledger/transaction", "ledger/account", "audit/instruction", "payments/topup"])
def test_staff_see_every_list(staff_client, purchase, model):
    app, name = model.split("/")
    response = staff_client.get(reverse(f"admin:{app}_{name}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["ledger/transaction", "audit/instruction"])
def test_ledger_and_instructions_are_read_only(staff_client, purchase, model):
    app, name = model.split("/")
    assert staff_client.get(reverse(f"admin:{app}_{name}_add")).status_code == 403
    obj_id = purchase.ledger_transaction_id if name == "transaction" else 1
    change = staff_client.post(reverse(f"admin:{app}_{name}_change", args=[obj_id]), {})
    assert change.status_code == 403
    assert staff_client.post(reverse(f"admin:{app}_{name}_delete", args=[obj_id]), {"post": "yes"}).status_code == 403


def test_customers_cannot_enter_the_console(client, customer):
    client.login(email=customer.email, password=testing.PASSWORD)
    response = client.get(reverse("admin:compute_server_changelist"))
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_customer_page_shows_the_wallet_from_the_ledger(staff_client, customer):
    testing.fund(customer, 12_34)
    response = staff_client.get(reverse("admin:accounts_user_change", args=[customer.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "¥112.34" in page  # 100.00 from the fixture + 12.34
    assert f"?customer__id__exact={customer.pk}" in page
    changelist = reverse("admin:ledger_transaction_changelist")
    assert staff_client.get(f"{changelist}?customer__id__exact={customer.pk}").status_code == 200
