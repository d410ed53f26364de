"""The demo walk-through, through the API only: top up → buy → active → restart → see and export the instruction."""


from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.payments import services as payments


def test_golden_path_through_the_api(catalogue, sandbox):
    from .conftest import client_for

    customer = testing.make_customer("carol@example.com")
    api = client_for(customer)
    assert api.get("/api/v1/balance/").json()["available_fen"] == 0

    topup = api.post("/api/v1/topups/", {"amount_fen": 100_00, "channel": "sandbox"}, format="json").json()
    assert topup["pay_url"].endswith(f"/wallet/topup/{topup['out_trade_no']}/pay/")
    payments.handle_sandbox_notice(payments.sandbox_pay(payments.topups_of(customer).get()))
    assert api.get("/api/v1/balance/").json()["cash_fen"] == 100_00

    price = api.get("/api/v1/catalog/quote/", {"region": "cn-ganzhou", "plan": "s1"}).json()["amount_fen"]
    order = api.post("/api/v1/orders/", {"region": "cn-ganzhou", "plan": "s1", "image": "debian-12",
                                         "cycle": "monthly", "name": "blog", "expected_amount_fen": price},
                     format="json", HTTP_IDEMPOTENCY_KEY="c0ffee-1")
    assert order.status_code == 201, order.json()
    assert order.json()["root_password"]
    server_url = f"/api/v1/servers/{order.json()['server']}/"
    assert api.get(server_url).json()["vm_state"] == "building"

    testing.run_tasks()
    assert api.get(server_url).json()["vm_state"] == "active"

    reboot = api.post(f"{server_url}reboot/", {"hard": False}, format="json")
    assert reboot.status_code == 202
    seq = reboot.json()["instruction_seq"]
    testing.run_tasks()

    instruction = api.get(f"/api/v1/instructions/{seq}/").json()
    assert (instruction["action"], instruction["channel"], instruction["result"]) == ("server.reboot", "api",
                                                                                      "accepted")
    log = api.get("/api/v1/instructions/").json()["results"]
    assert (log[0]["refers_to"], log[0]["result"]) == (seq, "succeeded")
    export = api.get("/api/v1/instructions/export.csv").content.decode("utf-8-sig")
    assert f"\n{seq},".replace("\n", "\r\n") in export and "server.reboot" in export

    transactions = api.get("/api/v1/transactions/").json()["results"]
    assert [(t["kind"], t["amount_fen"]) for t in transactions] == [("charge", -price), ("topup", 100_00)]
    assert api.get("/api/v1/balance/").json()["available_fen"] == 100_00 - price
    assert ledger.verify() == []
