"""Bank transfers (对公转账): declared by the customer, confirmed (for what actually arrived) or rejected by
finance staff only, credited once through clearing:bank, the customer told either way."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from wuji.accounts.models import User
from wuji.audit.models import Instruction
from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction
from wuji.notifications.models import Notice
from wuji.payments import services as payments
from wuji.payments.choices import BankTransferStatus, TopUpStatus
from wuji.payments.models import BankTransfer

START = 100_00
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def bank(settings, tmp_path):
    settings.WUJI_BANK_ACCOUNT_NUMBER = "3602 0000 0910 0123 456"
    settings.WUJI_BANK_NAME = "中国工商银行赣州分行营业部"
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"
    return settings


def staff_user(email: str, *, finance: bool):
    user = testing.make_customer(email)
    user.is_staff = True
    user.save()
    if finance:
        user.user_permissions.add(Permission.objects.get(codename="review_banktransfer"))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def finance(catalogue):
    return staff_user("finance@example.com", finance=True)


@pytest.fixture
def support(catalogue):
    return staff_user("support@example.com", finance=False)


def declare(customer, **overrides):
    data = dict(customer=customer, amount_fen=5000_00, payer_name="赣州某某科技有限公司", payer_bank="中国建设银行",
                transfer_date=clock.local_now().date(), reference="武极云充值 alice", receipt=None, ip="198.51.100.7")
    data.update(overrides)
    return payments.declare_bank_transfer(**data)


def cash(customer) -> int:
    return ledger.balances(customer)["cash"]


def test_declaration_is_recorded_with_its_receipt_kept_private_and_encrypted(bank, customer):
    transfer = declare(customer, receipt=PDF)
    assert transfer.status == BankTransferStatus.PENDING and transfer.receipt_content_type == "application/pdf"
    path = transfer.receipt.path
    assert path.startswith(str(bank.WUJI_PRIVATE_FILES_DIR)) and "static" not in path
    with open(path, "rb") as handle:
        assert b"%PDF" not in handle.read()  # encrypted at rest
    from wuji.payments.storage import decrypted_bytes

    assert decrypted_bytes(transfer.receipt) == PDF
    assert Instruction.objects.filter(action="banktransfer.declare", owner=customer).count() == 1
    assert cash(customer) == START  # nothing credited on a declaration


@pytest.mark.parametrize(("field", "overrides", "message"), [
    ("amount", {"amount_fen": 50}, "1 元至 500,000 元"),
    ("payer_name", {"payer_name": "  "}, "付款账户名称"),
    ("payer_bank", {"payer_bank": ""}, "付款银行"),
    ("transfer_date", {"transfer_date": dt.date(2099, 1, 1)}, "不能晚于今天"),
    ("transfer_date", {"transfer_date": dt.date(2000, 1, 1)}, "90 天"),
    ("receipt", {"receipt": b"MZ\x90\x00 not a receipt"}, "PDF、PNG 或 JPEG"),
])
def test_bad_declarations_are_refused_naming_the_field(bank, customer, field, overrides, message):
    with pytest.raises(payments.PaymentError, match=message) as refused:
        declare(customer, **overrides)
    assert refused.value.field == field
    assert not BankTransfer.objects.exists()


def test_an_oversized_receipt_is_refused(bank, customer, settings):
    settings.WUJI_BANK_RECEIPT_MAX_BYTES = 100
    with pytest.raises(payments.PaymentError) as refused:
        declare(customer, receipt=PDF + b"x" * 200)
    assert refused.value.field == "receipt"


def test_declaring_needs_the_channel(customer, settings):
    settings.WUJI_BANK_ACCOUNT_NUMBER = ""
    with pytest.raises(payments.PaymentError):
        declare(customer)


def test_finance_confirms_what_arrived_and_it_is_credited_once(bank, customer, finance):
    transfer = declare(customer)
    confirmed = payments.confirm_bank_transfer(transfer, finance, received_fen=4990_00, ip="10.0.0.5")
    assert confirmed.status == BankTransferStatus.CONFIRMED and confirmed.received_fen == 4990_00
    assert cash(customer) == START + 4990_00  # what was received, not what was declared
    topup = confirmed.topup
    assert (topup.channel, topup.status, topup.amount_fen) == ("bank", TopUpStatus.PAID, 4990_00)
    txn = topup.ledger_transaction
    assert txn.idempotency_key == f"topup:bank:BT{transfer.pk}"
    assert sorted(txn.postings.values_list("account__code", "amount")) == sorted([
        ("clearing:bank", -4990_00), (f"cust:{customer.pk}:cash", 4990_00)])
    with pytest.raises(payments.PaymentError, match="不会重复入账"):
        payments.confirm_bank_transfer(transfer, finance, received_fen=4990_00)
    assert cash(customer) == START + 4990_00
    assert Transaction.objects.filter(idempotency_key__startswith="topup:bank:").count() == 1
    notice = Notice.objects.get(recipient=customer, event="payments.bank_transfer_confirmed")
    assert "¥4,990.00" in notice.body and "¥5,000.00" in notice.body
    record = Instruction.objects.get(action="banktransfer.confirm")
    assert record.actor == finance and record.owner == customer and record.channel == "staff"


def test_non_finance_staff_and_customers_cannot_confirm_or_reject(bank, customer, support, other_customer):
    transfer = declare(customer)
    for person in (support, other_customer, customer):
        with pytest.raises(payments.PaymentError, match="财务"):
            payments.confirm_bank_transfer(transfer, person, received_fen=5000_00)
        with pytest.raises(payments.PaymentError, match="财务"):
            payments.reject_bank_transfer(transfer, person, reason="x")
    transfer.refresh_from_db()
    assert transfer.status == BankTransferStatus.PENDING and cash(customer) == START


def test_bad_received_amounts_are_refused(bank, customer, finance):
    transfer = declare(customer)
    for amount in (0, -1, 500_000_01):
        with pytest.raises(payments.PaymentError) as refused:
            payments.confirm_bank_transfer(transfer, finance, received_fen=amount)
        assert refused.value.field == "received"
    assert cash(customer) == START


def test_reject_with_a_reason_credits_nothing_and_tells_the_customer(bank, customer, finance):
    transfer = declare(customer)
    with pytest.raises(payments.PaymentError) as refused:
        payments.reject_bank_transfer(transfer, finance, reason="  ")
    assert refused.value.field == "reason"
    rejected = payments.reject_bank_transfer(transfer, finance, reason="未查到该笔来账")
    assert rejected.status == BankTransferStatus.REJECTED and rejected.reviewed_by == finance
    assert "未查到该笔来账" in Notice.objects.get(recipient=customer, event="payments.bank_transfer_rejected").body
    with pytest.raises(payments.PaymentError):
        payments.confirm_bank_transfer(transfer, finance, received_fen=5000_00)
    assert cash(customer) == START


# --- Console ---------------------------------------------------------------------------------------------


def test_console_confirm_action_asks_for_the_received_amount(bank, client, customer, finance):
    transfer = declare(customer)
    client.force_login(finance)
    url = reverse("admin:payments_banktransfer_changelist")
    page = client.post(url, {"action": "confirm_selected", "_selected_action": [transfer.pk]})
    assert page.status_code == 200 and 'name="received"' in page.content.decode()
    client.post(url, {"action": "confirm_selected", "_selected_action": [transfer.pk], "apply": "1",
                      "received": "4,990.00"})
    transfer.refresh_from_db()
    assert transfer.status == BankTransferStatus.PENDING  # "4,990.00" is not an amount: the form said so
    client.post(url, {"action": "confirm_selected", "_selected_action": [transfer.pk], "apply": "1",
                      "received": "4990.00"})
    transfer.refresh_from_db()
    assert transfer.status == BankTransferStatus.CONFIRMED and cash(customer) == START + 4990_00


def test_console_reject_action_and_receipt_for_finance_only(bank, client, customer, finance, support):
    transfer = declare(customer, receipt=PDF)
    client.force_login(support)
    assert client.get(reverse("admin:payments_banktransfer_receipt", args=[transfer.pk])).status_code == 403
    client.force_login(finance)
    receipt = client.get(reverse("admin:payments_banktransfer_receipt", args=[transfer.pk]))
    assert receipt.status_code == 200 and receipt.content == PDF and receipt["Content-Type"] == "application/pdf"
    url = reverse("admin:payments_banktransfer_changelist")
    client.post(url, {"action": "reject_selected", "_selected_action": [transfer.pk], "apply": "1",
                      "reason": "金额与来账不符"})
    transfer.refresh_from_db()
    assert transfer.status == BankTransferStatus.REJECTED and transfer.reason == "金额与来账不符"


def test_console_lists_topups_and_notices_read_only(client, finance):
    client.force_login(User.objects.create_superuser(email="root@example.com", password=testing.PASSWORD))
    for name in ("topup", "paymentnotice", "banktransfer"):
        assert client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:payments_{name}_add")).status_code == 403
