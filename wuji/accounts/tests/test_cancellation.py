"""Account cancellation (注销, decision 0031): each refusal with its own Chinese reason and nothing changed, the
success path (deactivated, sessions ended, keys revoked, records kept, instruction, notice), step-up verification
in the portal and over the API, and the owner boundary (only one's own account, only one's own obstacles)."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.accounts.tests.helpers import enable_totp, totp
from wuji.api import services as api_keys
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.compute.tests.test_operations import active_server
from wuji.core import testing
from wuji.finance.tests.conftest import apply, grant_gift, issue, refund_cash, spend
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, TransactionKind
from wuji.ledger.models import Posting
from wuji.notifications.models import Notice
from wuji.payments import withdrawals
from wuji.payments.tests.helpers import paid_topup
from wuji.portal.tests.conftest import step_up

pytestmark = pytest.mark.django_db
CANCEL_API = "/api/v1/account/cancel/"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def carol(catalogue):
    """A verified customer with nothing left: no money, no server, no fapiao, no withdrawal."""
    return testing.make_customer("carol@example.com")


def refused_with(user, fragment: str) -> list[str]:
    """Cancelling is refused with a reason containing `fragment`; nothing changed."""
    with pytest.raises(accounts.CancellationRefused) as refused:
        accounts.cancel_account(user, factor="password", channel="web", ip="203.0.113.5")
    user.refresh_from_db()
    assert user.is_active and not Instruction.objects.filter(owner=user, action="account.cancel").exists()
    assert any(fragment in reason for reason in refused.value.reasons), refused.value.reasons
    return refused.value.reasons


# --- refusals -------------------------------------------------------------------------------------------------


def test_a_cash_balance_refuses(customer):
    assert refused_with(customer, "现金 ¥100.00") == accounts.obstacles(customer)


def test_a_gift_balance_refuses(carol):
    grant_gift(carol, 5_00)
    assert len(refused_with(carol, "赠送金 ¥5.00")) == 1


def test_frozen_funds_refuse(carol):
    testing.fund(carol, 30_00)
    ledger.post(key=f"test-freeze:{carol.pk}", kind=TransactionKind.FREEZE, customer=carol, cause=("test", carol.pk),
                legs=[(ledger.customer_account_code(carol.pk, AccountKind.CASH), -30_00),
                      (ledger.customer_account_code(carol.pk, AccountKind.FROZEN), 30_00)])
    assert refused_with(carol, "冻结") == [accounts.obstacles(carol)[0]]


def test_a_server_not_released_refuses(customer, catalogue):
    active_server(customer, catalogue)
    refused_with(customer, "1 台服务器未释放")


def test_an_open_fapiao_application_refuses(carol):
    testing.fund(carol, 100_00)
    spend(carol, 100_00)
    apply(carol, 50_00)
    assert len(refused_with(carol, "发票或合同申请")) == 1


def test_invoice_debt_refuses(carol, catalogue):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_user(email="finance@example.com", password=None, is_staff=True)
    testing.fund(carol, 100_00)
    spend(carol, 100_00)
    issue(apply(carol, 100_00), staff)
    refund_cash(carol, 40_00)
    refused_with(carol, "欠票 ¥40.00")


def test_a_pending_withdrawal_refuses(carol):
    paid_topup(carol, 20_00)
    withdrawals.request_withdrawal(customer=carol, amount_fen=20_00, idempotency_key=uuid.uuid4().hex,
                                   factor="totp", channel="web", ip=None)
    refused_with(carol, "提现")


# --- success and boundary -------------------------------------------------------------------------------------


def test_cancelling_deactivates_ends_sessions_revokes_keys_and_keeps_the_records(carol, other_customer):
    api_keys.create_key(owner=carol, name="ci", ip="127.0.0.1")
    other_key, _secret = api_keys.create_key(owner=other_customer, name="ci", ip="127.0.0.1")
    postings = Posting.objects.filter(account__customer=carol).count()
    accounts.cancel_account(carol, factor="password", channel="web", ip="203.0.113.5")
    carol.refresh_from_db()
    assert not carol.is_active
    assert not api_keys.keys_of(carol).filter(revoked_at__isnull=True).exists()
    [instruction] = Instruction.objects.filter(owner=carol, action="account.cancel")
    assert instruction.params["factor"] == "password" and instruction.params["keys_revoked"] == 1
    assert Notice.objects.filter(recipient=carol, event="accounts.account_cancelled").exists()
    assert Posting.objects.filter(account__customer=carol).count() == postings  # nothing deleted
    assert Instruction.objects.filter(owner=carol).count() > 1
    # Another customer's money does not stand in the way, and their account and keys are untouched.
    other_customer.refresh_from_db()
    assert other_customer.is_active and api_keys.keys_of(other_customer).get(pk=other_key.pk).revoked_at is None
    assert not Client().login(email=carol.email, password=testing.PASSWORD)
    with pytest.raises(accounts.CancellationRefused):
        accounts.cancel_account(carol, factor="password", channel="web")


# --- portal ---------------------------------------------------------------------------------------------------


def test_the_portal_page_shows_the_consequences_and_what_remains(client, customer):
    client.force_login(customer)
    page = client.get(reverse("portal:cancel_account")).content.decode()
    assert 'data-testid="consequences"' in page and 'data-testid="obstacles"' in page and "现金 ¥100.00" in page
    assert 'name="confirm"' not in page


def test_the_portal_needs_the_box_ticked_and_step_up_verification(client, carol):
    client.force_login(carol)
    unticked = client.post(reverse("portal:cancel_account"), {})
    assert unticked.status_code == 200 and "请勾选确认" in unticked.content.decode()
    unverified = client.post(reverse("portal:cancel_account"), {"confirm": "on"})
    assert unverified.status_code == 302 and "operation=account_cancel" in unverified.url
    carol.refresh_from_db()
    assert carol.is_active


def test_the_portal_cancels_after_step_up_and_ends_the_session(client, carol):
    client.force_login(carol)
    step_up(client, "account_cancel")
    response = client.post(reverse("portal:cancel_account"), {"confirm": "on"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    carol.refresh_from_db()
    assert not carol.is_active
    assert Instruction.objects.get(owner=carol, action="account.cancel").ip == "203.0.113.9"
    assert client.get(reverse("portal:security")).status_code == 302  # signed out


def test_a_portal_refusal_is_shown_with_its_reason(client, customer):
    client.force_login(customer)
    step_up(client, "account_cancel")
    response = client.post(reverse("portal:cancel_account"), {"confirm": "on"}, follow=True)
    assert any("现金 ¥100.00" in str(m) for m in response.context["messages"])
    customer.refresh_from_db()
    assert customer.is_active


# --- API ------------------------------------------------------------------------------------------------------


def test_the_api_needs_a_step_up_code_and_the_confirmation(carol):
    api = client_for(carol)
    assert api.post(CANCEL_API, {"confirm": False}, format="json").json()["code"] == "confirmation_required"
    denied = api.post(CANCEL_API, {"confirm": True}, format="json")
    assert denied.status_code == 403 and denied.json()["code"] == "step_up_required"
    carol.refresh_from_db()
    assert carol.is_active


def test_the_api_refuses_with_the_reasons(customer):
    secret = enable_totp(customer)
    response = client_for(customer).post(CANCEL_API, {"confirm": True, "step_up_totp": totp(secret)}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "cancellation_refused"
    assert "现金 ¥100.00" in response.json()["message"]


def test_the_api_cancels_and_the_key_stops_working(carol):
    secret = enable_totp(carol)
    api = client_for(carol)
    response = api.post(CANCEL_API, {"confirm": True, "step_up_totp": totp(secret)}, format="json")
    assert response.status_code == 200 and response.json() == {"cancelled": True}
    assert Instruction.objects.get(owner=carol, action="account.cancel").channel == "api"
    assert api.get("/api/v1/account/").status_code in (401, 403)
