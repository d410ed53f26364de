import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from wuji.billing import services as billing
from wuji.core import testing
from wuji.finance import services as finance
from wuji.identity import services as identity
from wuji.identity import testing as identity_testing
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind

CREDIT_CODE = "91110108MA01ABCD5T"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% a stand-in for the tax system's fapiao file\n%%EOF\n"
_keys = itertools.count()


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(email="finance@example.com", password=None, is_staff=True)


@pytest.fixture
def enterprise(catalogue):
    return make_enterprise("corp@example.com")


def make_enterprise(email: str, *, code: str = CREDIT_CODE, name: str = "赣州示例科技有限公司"):
    user = testing.make_customer(email, balance_fen=1000_00, verified=False)
    licence = SimpleUploadedFile("licence.png", PNG, content_type="image/png")
    verification = identity.submit_enterprise(user, company_name=name, credit_code=code,
                                              legal_representative="张三", document=licence)
    identity.approve(verification, identity_testing.reviewer())
    return user


def spend(customer, amount_fen: int):
    """A charge through billing (gift first), as a purchase or renewal would make it."""
    with transaction.atomic():  # charge() locks the customer's accounts: callers hold a transaction
        return billing.charge(customer, amount=amount_fen, key=f"test-charge:{customer.pk}:{next(_keys)}",
                              cause=("test", customer.pk))


def grant_gift(customer, amount_fen: int):
    return ledger.post(key=f"test-gift:{customer.pk}:{next(_keys)}", kind=TransactionKind.GIFT,
                       legs=[(PlatformAccount.EXPENSE_GIFT, -amount_fen),
                             (ledger.customer_account_code(customer.pk, AccountKind.GIFT), amount_fen)],
                       customer=customer, cause=("test", customer.pk))


def refund_cash(customer, amount_fen: int):
    """LEDGER.md "Refund of an unused prepaid period" (cash part), as the billing piece posts it."""
    return ledger.post(key=f"test-refund:{customer.pk}:{next(_keys)}", kind=TransactionKind.REFUND,
                       legs=[(PlatformAccount.REVENUE_CASH, -amount_fen),
                             (ledger.customer_account_code(customer.pk, AccountKind.CASH), amount_fen)],
                       customer=customer, cause=("test-refund", customer.pk))


def apply(customer, amount_fen: int, **kwargs):
    kwargs.setdefault("fapiao_type", "normal")
    kwargs.setdefault("idempotency_key", f"k{next(_keys)}")
    return finance.apply_for_fapiao(customer, amount_fen=amount_fen, ip="203.0.113.5", **kwargs)


def issue(application, staff, number: str | None = None):
    return finance.issue_fapiao(application, staff, number=number or f"{26000000000000000000 + next(_keys)}",
                                pdf=PDF, ip="10.0.0.1")
