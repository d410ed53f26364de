"""Gift credit granted by staff: spendable, never cash; once per grant; recorded and noticed."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from wuji.audit.models import Instruction
from wuji.billing import gifts
from wuji.billing import services as billing
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.notifications.models import Notice


def console_user(email, *codenames):
    """A staff member (not a superuser) who may view and change customers, plus `codenames`."""
    user = get_user_model().objects.create_user(email=email, password=testing.PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user", *codenames]))
    return user


@pytest.fixture
def finance(catalogue):
    return console_user("finance@example.com", "grant_gift_credit")


def test_gift_is_credited_once_per_key_recorded_and_noticed(customer, finance):
    before = ledger.balances(customer)
    first = gifts.grant_gift(customer=customer, amount_fen=30_00, reason="SLA 补偿", actor=finance, key="k1")
    again = gifts.grant_gift(customer=customer, amount_fen=30_00, reason="SLA 补偿", actor=finance, key="k1")
    assert first.pk == again.pk
    after = ledger.balances(customer)
    assert after["gift"] == before["gift"] + 30_00 and after["cash"] == before["cash"]
    assert Instruction.objects.filter(action="wallet.gift", owner=customer).count() == 1
    assert Notice.objects.filter(recipient=customer, event="billing.gift_granted").count() == 1


def test_gift_is_spent_first_by_default(customer, finance, catalogue):
    gifts.grant_gift(customer=customer, amount_fen=10_00, reason="活动", actor=finance, key="k2")
    billing.charge(customer, amount=15_00, key="spend", cause=("test", 1))
    balances = ledger.balances(customer)
    assert balances["gift"] == 0 and balances["cash"] == 100_00 - 5_00


@pytest.mark.parametrize("amount, reason, message", [(0, "x", "0.01"), (10_000_01, "x", "10,000"), (1, " ", "原因")])
def test_bad_grants_are_refused_and_change_nothing(customer, finance, amount, reason, message):
    with pytest.raises(gifts.GiftRefused, match=message):
        gifts.grant_gift(customer=customer, amount_fen=amount, reason=reason, actor=finance, key="bad")
    assert ledger.balances(customer)["gift"] == 0
    assert not Instruction.objects.filter(action="wallet.gift").exists()


def test_console_action_needs_the_permission_and_grants_once_per_page(client, customer, finance, catalogue):
    url = reverse("admin:accounts_user_changelist")
    form = {"action": "grant_gift", "_selected_action": [customer.pk], "apply": "1", "amount": "12.50",
            "reason": "新用户活动", "token": "page-token-1"}
    clerk = console_user("clerk@example.com")
    client.force_login(clerk)
    client.post(url, form)
    assert ledger.balances(customer)["gift"] == 0  # no permission: the action is not offered
    client.force_login(finance)
    client.post(url, form)
    client.post(url, form)  # the same page submitted twice
    assert ledger.balances(customer)["gift"] == 12_50
    bad = client.post(url, {**form, "amount": "1.234", "token": "page-token-2"})
    assert "最多两位小数" in bad.content.decode()
    assert ledger.balances(customer)["gift"] == 12_50
