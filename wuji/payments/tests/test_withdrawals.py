"""Withdrawals (提现): every refusal changes nothing; fees; approve / reject / cancel; step-up in the portal and
the API; bank accounts encrypted and masked; owner boundaries; and a withdrawal racing a purchase on PostgreSQL."""

import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from wuji.accounts.tests.helpers import enable_totp, totp
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.billing import freezes
from wuji.billing import services as billing
from wuji.core import clock, crypto, testing
from wuji.ledger import services as ledger
from wuji.ledger.choices import PlatformAccount
from wuji.payments import withdrawals
from wuji.payments.choices import WithdrawalStatus
from wuji.payments.models import BankAccount, Withdrawal

from .helpers import paid_topup, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def finance(db):
    return staff("finance@wuji.test", "finance")


def withdraw(customer, amount, key=None, **kw):
    return withdrawals.request_withdrawal(customer=customer, amount_fen=amount, idempotency_key=key or uuid.uuid4().hex,
                                          factor="totp", channel="web", ip="127.0.0.1", **kw)


def refusal(customer, amount, **kw) -> withdrawals.WithdrawalRefused:
    before = ledger.balances(customer)
    with pytest.raises(withdrawals.WithdrawalRefused) as exc:
        withdraw(customer, amount, **kw)
    assert ledger.balances(customer) == before
    return exc.value


def test_each_refusal_names_its_rule_and_changes_nothing(catalogue, settings):
    from wuji.ledger.choices import AccountKind, TransactionKind

    customer = testing.make_customer("rules@example.com")
    paid_topup(customer, 300_00)
    ledger.post(key="gift:rules", kind=TransactionKind.GIFT, customer=customer,
                legs=[(PlatformAccount.EXPENSE_GIFT, -500_00),
                      (ledger.customer_account_code(customer.pk, AccountKind.GIFT), 500_00)])
    assert refusal(customer, 300_01).code == "insufficient_balance"  # over cash
    assert refusal(customer, 700_00).code == "insufficient_balance"  # gift is never withdrawable
    assert refusal(customer, 9_99).code == "below_minimum"
    settings.WUJI_WITHDRAWAL_MAX_FEN = 200_00
    assert refusal(customer, 200_01).code == "above_maximum"
    settings.WUJI_WITHDRAWAL_MAX_FEN = 50_000_00
    settings.WUJI_WITHDRAWAL_COUNT_LIMIT = 2
    withdraw(customer, 10_00)
    withdraw(customer, 10_00)
    assert refusal(customer, 10_00).code == "count_exceeded"
    assert Withdrawal.objects.filter(customer=customer).count() == 2
    settings.WUJI_WITHDRAWAL_COUNT_LIMIT = 5
    settings.WUJI_WITHDRAWAL_FEE_FIXED_FEN = 1_00
    assert refusal(customer, 280_00).code == "insufficient_balance"  # 280 + 1 fee > 280 cash


def test_restricted_and_frozen_accounts_cannot_withdraw(catalogue):
    customer = testing.make_customer("restricted@example.com", balance_fen=100_00)
    customer.locked_at = clock.now()  # security lock-down (the service only reads it)
    assert refusal(customer, 20_00).code == "account_restricted"
    customer.locked_at = None
    compliance = staff("c@wuji.test", "compliance")
    freezes.freeze_funds(customer=customer, staff=compliance, reason="complaint", outcome="long_term",
                         amount_fen=10_00, evidence="投诉工单 #42")
    assert refusal(customer, 20_00).code == "funds_frozen"


def test_fee_in_basis_points_and_approval(catalogue, finance, settings):
    settings.WUJI_WITHDRAWAL_FEE_BPS = 60  # 0.6 %
    customer = testing.make_customer("fee@example.com")
    paid_topup(customer, 200_00)
    w = withdraw(customer, 100_00, key="fee-1")
    assert w.fee_fen == 60 and w.status == WithdrawalStatus.AWAITING_APPROVAL
    assert withdraw(customer, 100_00, key="fee-1").pk == w.pk  # a retry returns the first
    assert ledger.balances(customer)["cash"] == 200_00 - 100_60
    assert ledger.platform_balance(PlatformAccount.INCOME_FEES) == 60
    testing.run_tasks()
    assert w.refunds.get().status == "pending"  # nothing is paid before approval
    with pytest.raises(withdrawals.WithdrawalRefused):
        withdrawals.approve_withdrawal(w, staff=testing.make_customer("nobody@example.com"))
    withdrawals.approve_withdrawal(w, staff=finance)
    testing.run_tasks()
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.COMPLETED and w.decided_by == finance
    assert ledger.platform_balance(PlatformAccount.PAYABLE_REFUNDS) == 0
    assert ledger.verify() == []


def test_reject_and_cancel_reverse_the_whole_transaction(catalogue, finance, settings):
    settings.WUJI_WITHDRAWAL_FEE_FIXED_FEN = 2_00
    customer = testing.make_customer("reject@example.com")
    paid_topup(customer, 100_00)
    rejected = withdraw(customer, 50_00)
    with pytest.raises(withdrawals.WithdrawalRefused):
        withdrawals.reject_withdrawal(rejected, staff=finance, reason=" ")
    withdrawals.reject_withdrawal(rejected, staff=finance, reason="收款信息有误")
    rejected.refresh_from_db()
    assert rejected.status == WithdrawalStatus.REJECTED and rejected.reversal_transaction.reverses_id == (
        rejected.hold_transaction_id)
    assert ledger.balances(customer)["cash"] == 100_00
    assert rejected.refunds.get().status == "cancelled"
    cancelled = withdraw(customer, 30_00)
    withdrawals.cancel_withdrawal(cancelled, actor=customer, channel="web")
    with pytest.raises(withdrawals.WithdrawalRefused):
        withdrawals.cancel_withdrawal(cancelled, actor=customer, channel="web")
    assert ledger.balances(customer)["cash"] == 100_00
    assert ledger.platform_balance(PlatformAccount.INCOME_FEES) == 0
    assert ledger.verify() == []


def test_automatic_approval_below_the_threshold(catalogue, settings):
    settings.WUJI_WITHDRAWAL_APPROVAL = "auto"
    settings.WUJI_WITHDRAWAL_AUTO_MAX_FEN = 50_00
    customer = testing.make_customer("auto@example.com")
    paid_topup(customer, 200_00)
    small, large = withdraw(customer, 50_00), withdraw(customer, 50_01)
    testing.run_tasks()
    small.refresh_from_db()
    large.refresh_from_db()
    assert small.status == WithdrawalStatus.COMPLETED
    assert large.status == WithdrawalStatus.AWAITING_APPROVAL
    assert Instruction.objects.filter(action="withdrawal.request", params__auto_approved=True).count() == 1
    assert ledger.verify() == []


def test_bank_account_is_encrypted_masked_and_must_be_the_verified_holder(catalogue):
    customer = testing.make_customer("bank@example.com")
    with pytest.raises(withdrawals.WithdrawalRefused) as mismatch:
        withdrawals.add_bank_account(customer=customer, holder="别人", bank="工商银行", branch="赣州分行",
                                     number="6222020200112233445", channel="web", ip=None)
    assert mismatch.value.field == "holder"
    with pytest.raises(withdrawals.WithdrawalRefused) as bad_number:
        withdrawals.add_bank_account(customer=customer, holder="测试用户", bank="工商银行", branch="赣州分行",
                                     number="12ab", channel="web", ip=None)
    assert bad_number.value.field == "number"
    unverified = testing.make_customer("unverified@example.com", verified=False)
    with pytest.raises(withdrawals.WithdrawalRefused):
        withdrawals.add_bank_account(customer=unverified, holder="测试用户", bank="工商银行", branch="赣州分行",
                                     number="6222020200112233445", channel="web", ip=None)
    account = withdrawals.add_bank_account(customer=customer, holder="测试用户", bank="工商银行", branch="赣州分行",
                                           number="6222 0202 0011 2233 445", channel="web", ip=None)
    row = BankAccount.objects.filter(pk=account.pk).values().get()
    assert not any("6222020200112233445" in str(value) for value in row.values())
    assert crypto.decrypt(row["number_encrypted"]) == "6222020200112233445"
    assert account.masked == "**** **** 3445"
    with pytest.raises(withdrawals.WithdrawalRefused) as duplicate:
        withdrawals.add_bank_account(customer=customer, holder="测试用户", bank="工商银行", branch="赣州分行",
                                     number="6222020200112233445", channel="web", ip=None)
    assert duplicate.value.code == "duplicate"
    assert "6222020200112233445" not in str(Instruction.objects.get(action="bank_account.add").params)


def test_portal_withdrawal_needs_step_up_and_shows_the_legs(catalogue, client):
    customer = testing.make_customer("portalw@example.com")
    paid_topup(customer, 100_00)
    client.force_login(customer)
    page = client.get(reverse("portal:withdraw")).content.decode()
    assert "¥100.00" in page
    data = {"amount": "30", "idempotency_key": str(uuid.uuid4())}
    response = client.post(reverse("portal:withdraw"), data)
    assert response.status_code == 302 and response.url.startswith(reverse("portal:step_up"))
    assert not Withdrawal.objects.exists() and ledger.balances(customer)["cash"] == 100_00
    secret = enable_totp(customer)
    response = client.post(reverse("portal:withdraw"), {**data, "step_up_totp": totp(secret)})
    assert response.status_code == 302 and response.url == reverse("portal:withdraw")
    w = Withdrawal.objects.get(customer=customer)
    assert w.factor == "totp" and ledger.balances(customer)["cash"] == 70_00
    page = client.get(reverse("portal:withdraw")).content.decode()
    assert "待审核" in page and "¥30.00" in page
    client.post(reverse("portal:withdrawal_cancel", args=[w.pk]))
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.CANCELLED and ledger.balances(customer)["cash"] == 100_00
    response = client.post(reverse("portal:bank_account_add"), {"holder": "测试用户", "bank": "建设银行",
                                                                "branch": "章贡支行", "number": "6217000011112222"})
    assert response.status_code == 302
    assert "**** **** 2222" in client.get(reverse("portal:withdraw")).content.decode()


def test_api_withdrawal_needs_a_step_up_code_and_an_idempotency_key(catalogue):
    customer = testing.make_customer("apiw@example.com")
    paid_topup(customer, 100_00)
    api = client_for(customer)
    missing = api.post("/api/v1/withdrawals/", {"amount_fen": 20_00}, format="json", HTTP_IDEMPOTENCY_KEY="")
    assert missing.status_code == 400
    denied = api.post("/api/v1/withdrawals/", {"amount_fen": 20_00}, format="json", HTTP_IDEMPOTENCY_KEY="w-1")
    assert denied.status_code == 403 and denied.json()["code"] == "step_up_required"
    secret = enable_totp(customer)
    body = {"amount_fen": 20_00, "step_up_totp": totp(secret)}
    created = api.post("/api/v1/withdrawals/", body, format="json", HTTP_IDEMPOTENCY_KEY="w-1")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "awaiting_approval" and created.json()["refunds"][0]["amount_fen"] == 20_00
    replay = api.post("/api/v1/withdrawals/", body, format="json", HTTP_IDEMPOTENCY_KEY="w-1")
    assert replay.json()["id"] == created.json()["id"] and Withdrawal.objects.count() == 1
    reused = api.post("/api/v1/withdrawals/", body, format="json", HTTP_IDEMPOTENCY_KEY="w-2")
    assert reused.status_code == 400 and reused.json()["code"] == "step_up_failed"  # a TOTP code works once
    cancel = api.post(f"/api/v1/withdrawals/{created.json()['id']}/cancel/")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert api.post(f"/api/v1/withdrawals/{created.json()['id']}/cancel/").status_code == 409
    account = api.post("/api/v1/bank-accounts/", {"holder": "测试用户", "bank": "农业银行", "branch": "赣州分行",
                                                  "number": "6228480011223344"}, format="json")
    assert account.status_code == 201 and account.json()["masked"] == "**** **** 3344"
    assert "number" not in account.json()
    assert api.delete(f"/api/v1/bank-accounts/{account.json()['id']}/").status_code == 204
    assert ledger.verify() == []


def test_owner_boundary_for_withdrawals_and_bank_accounts(catalogue, client):
    alice = testing.make_customer("alice-w@example.com")
    bob = testing.make_customer("bob-w@example.com", balance_fen=100_00)
    paid_topup(alice, 100_00)
    w = withdraw(alice, 20_00)
    account = withdrawals.add_bank_account(customer=alice, holder="测试用户", bank="工商银行", branch="赣州分行",
                                           number="6222020200112233445", channel="web", ip=None)
    client.force_login(bob)
    assert client.post(reverse("portal:withdrawal_cancel", args=[w.pk])).status_code == 404
    assert client.post(reverse("portal:bank_account_remove", args=[account.pk])).status_code == 404
    assert "3445" not in client.get(reverse("portal:withdraw")).content.decode()
    api = client_for(bob)
    assert api.get(f"/api/v1/withdrawals/{w.pk}/").status_code == 404
    assert api.post(f"/api/v1/withdrawals/{w.pk}/cancel/").status_code == 404
    assert api.get(f"/api/v1/bank-accounts/{account.pk}/").status_code == 404
    assert api.delete(f"/api/v1/bank-accounts/{account.pk}/").status_code == 404
    assert api.get("/api/v1/withdrawals/").json()["results"] == []
    foreign = api.post("/api/v1/withdrawals/", {"amount_fen": 20_00, "bank_account": account.pk}, format="json",
                       HTTP_IDEMPOTENCY_KEY="steal")
    assert foreign.status_code == 400 and foreign.json()["field"] == "bank_account"
    w.refresh_from_db()
    account.refresh_from_db()
    assert w.status == WithdrawalStatus.AWAITING_APPROVAL and account.removed_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_withdrawal_racing_a_purchase_on_an_exact_balance_never_overdraws():
    catalogue = testing.load_test_catalogue()
    price = billing.quote(region=catalogue["region"], plan=catalogue["plan"], cycle="monthly")
    outcomes = []
    for round_ in range(5):
        customer = testing.make_customer(f"race{round_}@example.com")
        paid_topup(customer, price)
        barrier = threading.Barrier(2)

        def buy(customer=customer, barrier=barrier):
            try:
                barrier.wait()
                billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                    image=catalogue["image"], cycle="monthly", name="race", idempotency_key="race",
                                    channel="api", ip=None)
                outcomes.append("bought")
            except billing.PurchaseRefused:
                outcomes.append("buy refused")
            finally:
                connection.close()

        def take_out(customer=customer, barrier=barrier):
            try:
                barrier.wait()
                withdraw(customer, price)
                outcomes.append("withdrawn")
            except withdrawals.WithdrawalRefused:
                outcomes.append("withdrawal refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=buy), threading.Thread(target=take_out)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ledger.balances(customer)["cash"] == 0
        assert customer.orders.count() + Withdrawal.objects.filter(customer=customer).count() == 1
    assert len(outcomes) == 10
    assert outcomes.count("bought") + outcomes.count("withdrawn") == 5
    assert outcomes.count("buy refused") + outcomes.count("withdrawal refused") == 5
    assert ledger.verify() == []


def test_console_approves_withdrawals_and_confirms_bank_payouts(catalogue, client, finance):
    from wuji.audit.models import DataAccess

    customer = testing.make_customer("console-w@example.com", balance_fen=100_00)  # no refundable top-up
    account = withdrawals.add_bank_account(customer=customer, holder="测试用户", bank="工商银行", branch="赣州分行",
                                           number="6222020200112233445", channel="web", ip=None)
    w = withdraw(customer, 40_00, bank_account=account)
    client.force_login(finance)
    finance.is_superuser = True  # console permissions; the services check the finance role
    finance.save()
    response = client.post(reverse("admin:payments_withdrawal_changelist"),
                           {"action": "approve", "_selected_action": [w.pk]})
    assert response.status_code == 302
    leg = w.refunds.get()
    response = client.post(reverse("admin:payments_refund_changelist"), {
        "action": "mark_paid", "_selected_action": [leg.pk], "apply": "1", "reference": "ICBC-20261127-01"})
    assert response.status_code == 302
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.COMPLETED and ledger.platform_balance("clearing:bank") == 40_00
    changelist = client.get(reverse("admin:payments_bankaccount_changelist")).content.decode()
    assert "**** **** 3445" in changelist and "6222020200112233445" not in changelist
    client.post(reverse("admin:payments_bankaccount_changelist"), {
        "action": "reveal", "_selected_action": [account.pk], "apply": "1", "reason": "核对打款信息"})
    assert DataAccess.objects.filter(field="bank_account", staff=finance).count() == 1
    assert ledger.verify() == []
