"""The customer's golden path through the portal, end to end on the fake hypervisor."""

import csv
import io
import re

from django.contrib.auth import get_user_model
from django.urls import reverse

from wuji.agreements import services as agreements
from wuji.audit.models import Instruction
from wuji.billing.models import Order
from wuji.compute.choices import TaskState, VmState
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.payments.models import TopUp

from .conftest import EMAIL, act, buy_server, order_data, register, step_up


def test_golden_path(client, catalogue, sandbox):
    version = agreements.current_version().version

    # Register, accepting the agreement version in force: the acceptance keeps version and IP.
    page = client.get(reverse("portal:register"))
    assert version in page.content.decode()
    assert reverse("portal:agreement") in page.content.decode()
    response = register(client)
    assert response.status_code == 302 and response.url == reverse("portal:dashboard")
    user = get_user_model().objects.get(email=EMAIL)
    acceptance = user.acceptances.get()
    assert (acceptance.version.version, acceptance.ip, acceptance.channel) == (version, "203.0.113.7", "web")
    assert "¥0.00" in client.get(reverse("portal:dashboard")).content.decode()

    # Top up through the sandbox gateway: the gateway's signed notice is verified, then credited.
    response = client.post(reverse("portal:wallet"), {"amount": "100.50"})
    topup = TopUp.objects.get(customer=user)
    assert response.url == reverse("portal:sandbox_pay", args=[topup.out_trade_no])
    gateway = client.get(response.url).content.decode()
    assert "演示支付网关 — 不会真实扣款 / Demo gateway — no real money moves" in gateway
    assert "¥100.50" in gateway and "确认支付" in gateway
    wallet = client.post(response.url, follow=True)
    assert "充值成功" in wallet.content.decode() and "¥100.50" in wallet.content.decode()
    assert ledger.balances(user)["cash"] == 100_50
    assert wallet.context["page"].object_list[0].cash_fen == 100_50

    # Buying in the mainland needs real-name verification (2.1.2): refused with a link, then verified.
    from wuji.identity import services as identity
    from wuji.identity import testing as identity_testing

    refused = client.post(reverse("portal:buy_confirm"), order_data(catalogue))
    assert "实名认证" in refused.context["error"] and reverse("portal:identity") in refused.context["error"]
    client.post(reverse("portal:identity"), {"kind": "individual", "individual-name": "张三",
                                             "individual-id_number": "110101199003071233"})
    identity.approve(identity.status_of(user).pending, identity_testing.reviewer())

    # Buy: the confirm page quotes the price in force and carries a fresh idempotency key.
    choice = {"region": catalogue["region"].pk, "plan": catalogue["plan"].pk, "image": catalogue["image"].pk,
              "cycle": "monthly", "name": "web-1"}
    confirm = client.get(reverse("portal:buy_confirm"), choice)
    assert confirm.context["amount"] == 2900 and "¥29.00" in confirm.content.decode()
    data = order_data(catalogue, idempotency_key=str(confirm.context["idempotency_key"]))
    response = client.post(reverse("portal:buy_confirm"), data)
    order = Order.objects.get(customer=user)
    assert response.url == reverse("portal:server", args=[order.server_id])
    assert "password" not in response.url
    # A double submit of the same form returns the same order and charges once.
    again = client.post(reverse("portal:buy_confirm"), data)
    assert again.url == response.url
    assert Order.objects.filter(customer=user).count() == 1
    assert ledger.balances(user)["cash"] == 100_50 - 2900

    # The initial root password is shown once, on the first view of the server page.
    first = client.get(response.url)
    password = first.context["root_password"]
    assert password and re.fullmatch(r"[A-Za-z0-9]{16}", password) and password in first.content.decode()
    second = client.get(response.url)
    assert second.context["root_password"] is None and password not in second.content.decode()
    assert 'http-equiv="refresh"' in second.content.decode()  # building: the page follows the operation

    testing.run_tasks()
    page = client.get(response.url)
    html = page.content.decode()
    assert "运行中" in html and 'http-equiv="refresh"' not in html
    assert [op for op, *_ in page.context["buttons"]] == ["stop", "reboot", "reboot_hard"]
    assert page.context["can_reinstall"]
    assert "demo-node" not in html and testing.FAKE_NODE_URI not in html  # the node is not the customer's

    # Restart.
    key = dict((op, k) for op, _label, k in page.context["buttons"])["reboot"]
    server = order.server
    result = client.post(reverse("portal:server_action", args=[server.pk]),
                         {"operation": "reboot", "idempotency_key": str(key)}, follow=True)
    assert "指令已受理：重启" in result.content.decode()
    server.refresh_from_db()
    assert server.task_state == TaskState.REBOOTING
    assert "正在重启" in result.content.decode() and 'http-equiv="refresh"' in result.content.decode()
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.vm_state, server.task_state) == (VmState.ACTIVE, TaskState.NONE)

    # The instruction log lists the restart and its outcome, newest first.
    log = client.get(reverse("portal:instructions"))
    rows = list(log.context["page"].object_list)
    assert [r.action for r in rows][:2] == ["server.reboot", "server.reboot"]
    assert rows[0].result == "succeeded" and rows[1].result == "accepted" and rows[1].ip == "127.0.0.1"
    assert "重启" in log.content.decode()

    # CSV export of the same log.
    export = client.get(reverse("portal:instructions_csv"))
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    actions = [row[3] for row in lines[1:]]
    assert "server.reboot" in actions and "order.place" in actions and "account.register" in actions
    assert len(lines) - 1 == Instruction.objects.filter(owner=user).count()
    assert password not in export.content.decode()


def test_reinstall_shows_the_new_root_password_once(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    alice_client.get(reverse("portal:server", args=[server.pk]))  # the initial password, consumed
    step_up(alice_client, "reinstall")
    response = act(alice_client, server, "reinstall", image=catalogue["other_image"].pk)
    assert response.status_code == 302
    page = alice_client.get(reverse("portal:server", args=[server.pk]))
    assert page.context["root_password"]
    assert alice_client.get(reverse("portal:server", args=[server.pk])).context["root_password"] is None
    testing.run_tasks()
    server.refresh_from_db()
    assert server.image == catalogue["other_image"] and server.vm_state == VmState.ACTIVE


def test_stop_then_start(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    act(alice_client, server, "stop")
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.STOPPED
    page = alice_client.get(reverse("portal:server", args=[server.pk]))
    assert [op for op, *_ in page.context["buttons"]] == ["start", "reboot_hard"]
    act(alice_client, server, "start")
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.ACTIVE


def test_login_with_email_and_logout(client, customer):
    assert client.get(reverse("portal:login")).url == reverse("account_login")  # the old address still works
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    response = client.post(reverse("account_login"), {"login": customer.email, "password": testing.PASSWORD})
    assert response.status_code == 302 and response.url == reverse("portal:dashboard")
    assert client.get(reverse("portal:dashboard")).status_code == 200
    client.get(reverse("portal:logout"))  # a GET only asks for confirmation: logging out is a POST
    assert client.get(reverse("portal:dashboard")).status_code == 200
    client.post(reverse("portal:logout"))
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_wrong_password_is_refused(client, customer):
    response = client.post(reverse("account_login"), {"login": customer.email, "password": "wrong-password"})
    assert response.status_code == 200 and "邮箱/手机号或密码不正确" in response.content.decode()


def test_public_pages(client, catalogue):
    home = client.get(reverse("portal:home")).content.decode()
    assert "¥29.00" in home and "华东-赣州" in home
    agreement = client.get(reverse("portal:agreement"))
    version = agreements.current_version()
    html = agreement.content.decode()
    assert version.version in html and "<h3>一、总则</h3>" in html and "<strong>1.1</strong>" in html
    assert "<script" not in html


def test_pages_need_login(client, catalogue):
    for name in ("portal:dashboard", "portal:wallet", "portal:buy", "portal:servers", "portal:instructions",
                 "portal:instructions_csv", "portal:api_keys"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("account_login")), name
