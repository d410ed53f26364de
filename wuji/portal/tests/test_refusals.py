"""Each refusal is shown clearly and changes nothing."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from wuji.audit.models import Instruction
from wuji.billing.models import Order
from wuji.compute.choices import TaskState, VmState
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.payments import sandbox as sandbox_gateway
from wuji.payments import services as payments
from wuji.payments.models import TopUp

from .conftest import EMAIL, act, buy_server, messages_of, order_data, register, step_up


def test_registration_without_ticking_the_agreement_is_refused(client, catalogue):
    data = {"accept_agreement": ""}
    response = register(client, **data)
    assert response.status_code == 200
    assert "请阅读并勾选同意《武极云用户服务协议》。" in response.content.decode()
    assert not get_user_model().objects.filter(email=EMAIL).exists()


def test_registration_with_another_agreement_version_is_refused(client, catalogue):
    response = register(client, agreement_version="2000-01-01")
    assert response.status_code == 200
    assert response.context["form"].errors["accept_agreement"] == ["请阅读并同意当前版本的用户协议。"]
    assert not get_user_model().objects.filter(email=EMAIL).exists()


def test_registration_with_mismatched_or_weak_passwords_is_refused(client, catalogue):
    response = register(client, password2="Something-else-1")
    assert "两次输入的密码不一致。" in response.content.decode()
    response = register(client, password1="12345", password2="12345")
    assert response.context["form"].errors["password1"]
    assert not get_user_model().objects.filter(email=EMAIL).exists()


def test_registration_with_a_taken_email_is_refused(client, customer):
    response = register(client, email=customer.email)
    assert response.context["form"].errors["email"] == ["该邮箱已注册。"]


def test_bad_topup_amounts_are_form_errors(alice_client, sandbox):
    for amount, message in [("abc", "请输入正确的金额"), ("1.234", "请输入正确的金额"), ("0", "必须大于 0"),
                            ("-5", "必须大于 0"), ("0.5", "1 元至 500,000 元"), ("600000", "1 元至 500,000 元"),
                            ("", "该字段是必填项。")]:
        response = alice_client.post(reverse("portal:wallet"), {"amount": amount})
        assert response.status_code == 200, amount
        assert message in str(response.context["form"].errors["amount"]), (amount, response.context["form"].errors)
    assert not TopUp.objects.exists()


def test_topup_is_unavailable_when_the_sandbox_is_off(alice_client, customer, settings):
    settings.WUJI_SANDBOX_PAYMENTS = True
    topup = payments.create_topup(customer=customer, amount_fen=1000, channel="sandbox", ip=None)
    settings.WUJI_SANDBOX_PAYMENTS = False
    page = alice_client.get(reverse("portal:wallet"))
    assert page.status_code == 200 and 'name="amount"' not in page.content.decode()
    assert alice_client.post(reverse("portal:wallet"), {"amount": "10"}).status_code == 404
    assert alice_client.get(reverse("portal:sandbox_pay", args=[topup.out_trade_no])).status_code == 404
    assert alice_client.post(reverse("portal:sandbox_pay", args=[topup.out_trade_no])).status_code == 404
    assert ledger.balances(customer)["cash"] == 100_00


def test_paying_a_paid_topup_again_credits_once(alice_client, customer, sandbox):
    topup = payments.create_topup(customer=customer, amount_fen=1000, channel="sandbox", ip=None)
    url = reverse("portal:sandbox_pay", args=[topup.out_trade_no])
    alice_client.post(url)
    response = alice_client.post(url, follow=True)
    assert "该充值单已支付。" in messages_of(response)
    assert ledger.balances(customer)["cash"] == 100_00 + 1000


def test_notify_endpoint_verifies_the_signature_and_credits_once(client, customer, sandbox):
    topup = payments.create_topup(customer=customer, amount_fen=5000, channel="sandbox", ip=None)
    notice = payments.sandbox_pay(topup)
    url = reverse("portal:sandbox_notify")

    forged = dict(notice, amount_fen="500000")
    forged["sign"] = "0" * 64
    response = client.post(url, forged)
    assert response.status_code == 400 and response.content == b"fail"
    tampered = dict(notice, amount_fen="500000")  # the original signature no longer matches
    assert client.post(url, tampered).status_code == 400
    assert ledger.balances(customer)["cash"] == 100_00

    assert client.post(url, notice).content == b"success"
    assert client.post(url, notice).content == b"success"  # a repeated notice is acknowledged, not re-credited
    assert ledger.balances(customer)["cash"] == 100_00 + 5000
    assert client.get(url).status_code == 405
    assert sandbox_gateway.verify(notice)


def test_notify_endpoint_refuses_when_the_sandbox_is_off(client, customer, settings):
    settings.WUJI_SANDBOX_PAYMENTS = True
    topup = payments.create_topup(customer=customer, amount_fen=5000, channel="sandbox", ip=None)
    notice = payments.sandbox_pay(topup)
    settings.WUJI_SANDBOX_PAYMENTS = False
    assert client.post(reverse("portal:sandbox_notify"), notice).status_code == 400
    assert ledger.balances(customer)["cash"] == 100_00


def test_insufficient_balance_is_shown_and_buys_nothing(client, catalogue):
    poor = testing.make_customer("poor@example.com", balance_fen=10_00)
    client.force_login(poor)
    response = client.post(reverse("portal:buy_confirm"), order_data(catalogue))
    assert response.status_code == 200
    assert "余额不足：还需 19.00 元，请先充值。" in response.content.decode()
    assert not Order.objects.exists() and ledger.balances(poor)["cash"] == 10_00


def test_changed_price_is_refused_and_the_new_price_is_offered(alice_client, customer, catalogue):
    data = order_data(catalogue, expected_amount=1990)
    response = alice_client.post(reverse("portal:buy_confirm"), data)
    html = response.content.decode()
    assert "价格已变更，请确认新价格后重新下单。" in html
    assert response.context["amount"] == 2900 and 'name="expected_amount" value="2900"' in html
    assert f'value="{data["idempotency_key"]}"' in html
    assert not Order.objects.exists() and ledger.balances(customer)["cash"] == 100_00


def test_sold_out_region_is_refused(alice_client, customer, catalogue):
    response = alice_client.post(reverse("portal:buy_confirm"), order_data(catalogue, region=catalogue["hk"].pk,
                                                                          expected_amount=3900))
    assert "该地域资源已售罄" in response.content.decode()
    assert not Order.objects.exists()


def test_tampered_order_form_changes_nothing(alice_client, customer, catalogue):
    response = alice_client.post(reverse("portal:buy_confirm"), order_data(catalogue, idempotency_key="not-a-uuid"))
    assert response.status_code == 302 and response.url == reverse("portal:buy")
    response = alice_client.get(reverse("portal:buy_confirm"), {"region": "999", "plan": "1"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Order.objects.exists()


def test_second_operation_while_one_is_in_flight_is_refused(alice_client, customer, catalogue):
    server = buy_server(alice_client, catalogue)
    act(alice_client, server, "reboot")
    response = act(alice_client, server, "stop")
    follow = alice_client.get(response.url)
    assert "该服务器有操作正在进行（正在重启），请等待完成后再试。" in messages_of(follow)
    server.refresh_from_db()
    assert server.task_state == TaskState.REBOOTING
    refused = Instruction.objects.get(action="server.stop")
    assert refused.result == "refused" and refused.channel == "web"
    assert follow.context["buttons"] == [] and not follow.context["can_reinstall"]


def test_operation_not_allowed_in_this_state_is_refused(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    response = act(alice_client, server, "start")
    assert "服务器当前状态（运行中）不允许执行“开机”。" in messages_of(alice_client.get(response.url))
    server.refresh_from_db()
    assert (server.vm_state, server.task_state) == (VmState.ACTIVE, TaskState.NONE)


def test_operation_while_building_is_refused(alice_client, catalogue):
    server = buy_server(alice_client, catalogue, run=False)
    response = act(alice_client, server, "reboot")
    assert "正在创建" in messages_of(alice_client.get(response.url))[-1]


def test_reinstall_without_an_image_is_refused(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    step_up(alice_client, "reinstall")
    response = act(alice_client, server, "reinstall")
    assert "请选择可用的系统镜像。" in messages_of(alice_client.get(response.url))
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE


def test_same_action_form_submitted_twice_runs_once(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    data = {"operation": "reboot", "idempotency_key": "7f1c1f4e-0d7e-4c55-9d4b-4a2f7a3c9e10"}
    url = reverse("portal:server_action", args=[server.pk])
    alice_client.post(url, data)
    response = alice_client.post(url, data, follow=True)
    assert "该指令已提交过，未重复执行。" in messages_of(response)
    assert Instruction.objects.filter(action="server.reboot", refers_to=None).count() == 1


def test_unknown_operation_is_refused(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    response = act(alice_client, server, "delete-everything")
    assert "无效的操作请求。" in messages_of(alice_client.get(response.url))
    assert alice_client.get(reverse("portal:server_action", args=[server.pk])).status_code == 405
