"""Cancelling the membership for uncorrected false information (clause 2.1.3): only for an account restricted
at its correction deadline, only once its money is settled and its servers released; then the account is
deactivated, signed out everywhere, its API keys revoked, the instruction recorded and the user told."""

import datetime as dt

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from wuji.api import services as api_keys
from wuji.api.testing import SignedAPIClient
from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.core import clock, testing
from wuji.identity import services as identity
from wuji.identity.choices import FlagStatus
from wuji.identity.models import FalseInformationFlag
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind
from wuji.notifications.models import Notice

CHANGELIST = "admin:identity_falseinformationflag_changelist"
BALANCE_API = "/api/v1/balance/"


def restrict(user, staff, reason="身份证与姓名不符") -> FalseInformationFlag:
    """Flag the account and let the correction deadline pass uncorrected: the account is restricted."""
    flag = identity.flag_false_information(user, staff, reason, clock.now() + dt.timedelta(days=7))
    assert identity.restrict_overdue(now=clock.now() + dt.timedelta(days=8)) == 1
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESTRICTED and identity.is_restricted(user)
    return flag


def refusal(user, staff, reason="逾期未更正实名信息") -> dict:
    with pytest.raises(ValidationError) as info:
        identity.cancel_membership(user, staff, reason)
    user.refresh_from_db()
    assert user.is_active  # nothing written
    assert not Instruction.objects.filter(action="account.cancel_membership").exists()
    return info.value.message_dict


def signed_in(user) -> Client:
    client = Client(HTTP_USER_AGENT="browser")
    response = client.post(reverse("account_login"), {"login": user.email, "password": testing.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    assert client.get(reverse("portal:dashboard")).status_code == 200
    return client


@pytest.fixture
def emptied(catalogue):
    """A verified customer with no money and no servers."""
    return testing.make_customer("erin@example.com", balance_fen=0)


# --- refusals -----------------------------------------------------------------------------------------

def test_refused_without_a_flag_with_an_open_flag_and_without_a_reason(emptied, reviewer):
    assert "user" in refusal(emptied, reviewer)
    identity.flag_false_information(emptied, reviewer, "信息不实", clock.now() + dt.timedelta(days=7))
    assert "user" in refusal(emptied, reviewer)  # the deadline has not passed: not restricted yet
    identity.restrict_overdue(now=clock.now() + dt.timedelta(days=8))
    assert "reason" in refusal(emptied, reviewer, reason="  ")


def test_refused_while_cash_remains(customer, reviewer):
    restrict(customer, reviewer)
    errors = refusal(customer, reviewer)
    assert set(errors) == {"balance"}
    assert "现金 ¥100.00" in errors["balance"][0] and "办理退款" in errors["balance"][0]


def test_refused_while_gift_remains(emptied, reviewer):
    ledger.post(key=f"test-gift:{emptied.pk}", kind=TransactionKind.GIFT,
                legs=[(PlatformAccount.EXPENSE_GIFT, -5_00),
                      (ledger.customer_account_code(emptied.pk, AccountKind.GIFT), 5_00)],
                customer=emptied, cause=("test", emptied.pk))
    restrict(emptied, reviewer)
    errors = refusal(emptied, reviewer)
    assert set(errors) == {"balance"}
    assert "赠送金 ¥5.00" in errors["balance"][0] and "现金" not in errors["balance"][0]


def test_refused_while_a_server_is_not_released(catalogue, reviewer):
    price = billing.quote(region=catalogue["region"], plan=catalogue["plan"], cycle="monthly")
    user = testing.make_customer("frank@example.com", balance_fen=price)
    order, _password = billing.place_order(
        customer=user, region=catalogue["region"], plan=catalogue["plan"], image=catalogue["image"],
        cycle="monthly", name="web-1", idempotency_key="k1", channel="web", ip=None)
    testing.run_tasks()
    assert ledger.balances(user) == {"cash": 0, "gift": 0, "frozen": 0}
    restrict(user, reviewer)
    errors = refusal(user, reviewer)
    assert set(errors) == {"servers"}
    assert "1 台服务器未释放" in errors["servers"][0] and order.server.name in errors["servers"][0]


# --- success ------------------------------------------------------------------------------------------

def test_cancel_membership_ends_everything(emptied, reviewer):
    browser = signed_in(emptied)
    key, secret = api_keys.create_key(owner=emptied, name="bot", ip=None)
    api = SignedAPIClient(key.key_id, secret)
    assert api.get(BALANCE_API).status_code == 200
    assert Client().login(username=emptied.email, password=testing.PASSWORD)
    flag = restrict(emptied, reviewer)
    mail.outbox.clear()

    result = identity.cancel_membership(emptied, reviewer, "逾期未更正实名信息，依 2.1.3 注销", ip="203.0.113.7")

    assert result.pk == flag.pk
    flag.refresh_from_db()
    emptied.refresh_from_db()
    assert not emptied.is_active
    assert flag.status == FlagStatus.CANCELLED and flag.cancelled_by == reviewer and flag.cancelled_at
    assert flag.cancel_reason == "逾期未更正实名信息，依 2.1.3 注销"
    # Cannot sign in, no session survives, the key no longer works.
    assert not Client().login(username=emptied.email, password=testing.PASSWORD)
    assert not UserSession.objects.filter(user=emptied).exists()
    assert browser.get(reverse("portal:dashboard")).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api.get(BALANCE_API).status_code in (401, 403)
    # Recorded: the staff instruction and each key revocation, by the staff member.
    instruction = Instruction.objects.get(action="account.cancel_membership")
    assert (instruction.channel, instruction.actor, instruction.owner) == ("staff", reviewer, emptied)
    assert instruction.params["keys_revoked"] == 1 and instruction.params["sessions_ended"] >= 1
    assert str(instruction.ip) == "203.0.113.7"
    assert Instruction.objects.filter(action="apikey.revoke", owner=emptied, actor=reviewer, channel="staff").exists()
    # Told, in the inbox and by e-mail (they can no longer sign in to read the inbox).
    notice = Notice.objects.get(recipient=emptied, event="identity.membership_cancelled")
    assert notice.mandatory and "2.1.3" in notice.body and "身份证与姓名不符" in notice.body
    assert notice.deliveries.filter(channel="email", address=emptied.email).exists()
    testing.run_tasks()
    assert any(m.subject == notice.subject and m.to == [emptied.email] for m in mail.outbox)
    # Done once: a second cancellation is refused.
    with pytest.raises(ValidationError) as info:
        identity.cancel_membership(emptied, reviewer, "再次注销")
    assert "user" in info.value.message_dict


# --- console ------------------------------------------------------------------------------------------

def test_console_action_cancels_and_shows_refusals(emptied, customer, reviewer, admin_client):
    done, refused = restrict(emptied, reviewer), restrict(customer, reviewer)
    url = reverse(CHANGELIST)
    page = admin_client.post(url, {"action": "cancel_membership_selected", "_selected_action": [done.pk]})
    assert page.status_code == 200 and "reason" in page.context["form"].fields  # asks for a reason first

    response = admin_client.post(url, {"action": "cancel_membership_selected", "_selected_action": [done.pk],
                                       "apply": "1", "reason": "逾期未更正"})
    assert response.status_code == 302
    emptied.refresh_from_db()
    assert not emptied.is_active
    assert Instruction.objects.filter(action="account.cancel_membership", owner=emptied, channel="staff").exists()

    response = admin_client.post(url, {"action": "cancel_membership_selected", "_selected_action": [refused.pk],
                                       "apply": "1", "reason": "逾期未更正"})
    assert response.status_code == 302
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "现金 ¥100.00" in shown
    customer.refresh_from_db()
    assert customer.is_active


def test_a_customer_cannot_reach_the_console_action(emptied, customer, reviewer):
    flag = restrict(emptied, reviewer)
    client = signed_in(customer)
    response = client.post(reverse(CHANGELIST), {"action": "cancel_membership_selected",
                                                 "_selected_action": [flag.pk], "apply": "1", "reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    emptied.refresh_from_db()
    assert emptied.is_active
    assert not Instruction.objects.filter(action="account.cancel_membership").exists()
