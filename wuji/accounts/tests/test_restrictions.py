"""Selective restriction of account functions (4.5.2.2): each of purchase, renewal, withdrawal and API access
is refused while restricted and the others stay allowed; lifting restores; every restriction and lift is an
instruction and a mandatory notice; the API answers 403 `function_restricted`; console roles; owner boundary."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.urls import reverse

from wuji.accounts import restrictions
from wuji.accounts.choices import RestrictedFunction as F
from wuji.accounts.models import AccountRestriction
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.billing import payg, renewals
from wuji.billing import services as billing
from wuji.billing.models import Order, Subscription
from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.payments import withdrawals
from wuji.payments.tests.helpers import paid_topup

pytestmark = pytest.mark.django_db
BALANCE = "/api/v1/balance/"


def staff(email: str, *roles: str, perms=("view_user", "view_accountrestriction")):
    user = get_user_model().objects.create_user(email=email, password="Staff-Pass-2024!", is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="accounts", codename__in=perms))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def compliance(db):
    return staff("compliance@wuji.test", "compliance")


def restrict(customer, actor, *functions, reason="发现对外攻击行为"):
    return restrictions.restrict(user=customer, functions=functions, reason=reason, actor=actor, ip="10.0.0.9")


def order(customer, catalogue, key="o1"):
    return billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                               image=catalogue["image"], cycle="monthly", name="web", idempotency_key=key,
                               channel="web", ip="127.0.0.1")[0]


def subscription(customer, catalogue, key="o1") -> Subscription:
    placed = order(customer, catalogue, key)
    testing.run_tasks()
    return Subscription.objects.get(order=placed)


def renew(sub):
    sub.refresh_from_db()
    return renewals.renew(sub, cycles=1, expected_period_end=sub.period_end, actor=sub.customer, channel="web")


def withdraw(customer, amount=10_00, key="w1"):
    return withdrawals.request_withdrawal(customer=customer, amount_fen=amount, idempotency_key=key, factor="totp",
                                          channel="web", ip="127.0.0.1")


# --- The service: records, notices, refusals ----------------------------------------------------------------


def test_restricting_records_one_instruction_per_function_and_one_mandatory_notice(customer, compliance):
    created = restrict(customer, compliance, F.PURCHASE, F.WITHDRAWAL)
    assert {r.function for r in created} == {F.PURCHASE, F.WITHDRAWAL}
    records = Instruction.objects.filter(action="account.restrict").order_by("seq")
    assert [(i.actor, i.owner, i.channel, i.ip, i.params["function"]) for i in records] == [
        (compliance, customer, "staff", "10.0.0.9", F.PURCHASE),
        (compliance, customer, "staff", "10.0.0.9", F.WITHDRAWAL)]
    notice = customer.notices.get(event="accounts.functions_restricted")
    assert "购买新产品或服务、提现" in notice.body and "发现对外攻击行为" in notice.body and notice.mandatory
    assert {restrictions.is_restricted(customer, f) for f in (F.RENEWAL, F.API)} == {False}
    assert {restrictions.is_restricted(customer, f) for f in (F.PURCHASE, F.WITHDRAWAL)} == {True}


def test_lifting_restores_the_function_and_is_recorded_and_told(customer, compliance, catalogue):
    (restriction,) = restrict(customer, compliance, F.PURCHASE)
    with pytest.raises(billing.PurchaseRefused):
        order(customer, catalogue)
    restrictions.lift(restriction=restriction, actor=compliance, reason="申诉成立", ip="10.0.0.9")
    assert order(customer, catalogue).pk
    restriction.refresh_from_db()
    assert (restriction.lifted_by, restriction.lift_reason, restriction.is_open) == (compliance, "申诉成立", False)
    lift = Instruction.objects.get(action="account.restriction_lift")
    assert (lift.actor, lift.owner) == (compliance, customer)
    assert lift.params == {"function": "purchase", "reason": "申诉成立"}
    assert "申诉成立" in customer.notices.get(event="accounts.function_restriction_lifted").body
    with pytest.raises(restrictions.RestrictionError) as exc:
        restrictions.lift(restriction=restriction, actor=compliance, reason="again")
    assert exc.value.code == "already_lifted"


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"functions": []}, "functions_invalid"),
    ({"functions": ["purchase", "delete_everything"]}, "functions_invalid"),
    ({"reason": "  "}, "reason_required"),
])
def test_invalid_requests_are_refused_and_write_nothing(customer, compliance, kwargs, code):
    arguments = {"user": customer, "functions": [F.PURCHASE], "reason": "违规", "actor": compliance, **kwargs}
    with pytest.raises(restrictions.RestrictionError) as exc:
        restrictions.restrict(**arguments)
    assert exc.value.code == code and str(exc.value.message)
    assert not AccountRestriction.objects.exists()
    assert not Instruction.objects.filter(action="account.restrict").exists()


def test_only_compliance_staff_may_restrict_or_lift(customer, compliance):
    support = staff("support@wuji.test", "support")
    with pytest.raises(restrictions.RestrictionError) as exc:
        restrict(customer, support, F.API)
    assert exc.value.code == "not_restriction_staff" and not AccountRestriction.objects.exists()
    (restriction,) = restrict(customer, compliance, F.API)
    with pytest.raises(restrictions.RestrictionError):
        restrictions.lift(restriction=restriction, actor=support, reason="x")
    assert restrictions.is_restricted(customer, F.API)
    with pytest.raises(restrictions.RestrictionError) as exc:
        restrict(compliance, compliance, F.API)
    assert exc.value.code == "staff_account"


def test_at_most_one_open_restriction_per_function(customer, compliance):
    restrict(customer, compliance, F.PURCHASE)
    with pytest.raises(restrictions.RestrictionError) as exc:
        restrict(customer, compliance, F.PURCHASE)
    assert exc.value.code == "already_restricted"
    assert [r.function for r in restrict(customer, compliance, F.PURCHASE, F.RENEWAL)] == [F.RENEWAL]
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountRestriction.objects.create(user=customer, function=F.PURCHASE, reason="dup", imposed_at=clock.now())
    assert customer.notices.filter(event="accounts.functions_restricted").count() == 2


def test_the_system_may_restrict_without_a_staff_member(customer):
    (restriction,) = restrictions.restrict(user=customer, functions=[F.PURCHASE], reason="挖矿", actor=None)
    assert restriction.imposed_by is None
    assert Instruction.objects.get(action="account.restrict").channel == "system"


# --- Each gate refuses its function and only it -------------------------------------------------------------


def test_purchase_is_refused_both_prepaid_and_pay_as_you_go_while_the_rest_works(customer, compliance, catalogue):
    sub = subscription(customer, catalogue, key="before")
    restrict(customer, compliance, F.PURCHASE)
    before = ledger.balances(customer)
    with pytest.raises(billing.PurchaseRefused) as exc:
        order(customer, catalogue, key="after")
    assert exc.value.code == "function_restricted" and "购买新产品或服务" in str(exc.value)
    assert exc.value.link == reverse("portal:security")
    with pytest.raises(billing.PurchaseRefused) as exc:
        payg.place_payg_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                              image=catalogue["image"], name="p", idempotency_key="p1", channel="web", ip=None)
    assert exc.value.code == "function_restricted"
    assert ledger.balances(customer) == before and Order.objects.filter(customer=customer).count() == 1
    assert not renew(sub).replayed  # renewal still allowed
    assert client_for(customer).get(BALANCE).status_code == 200  # API still allowed


def test_renewal_is_refused_manual_and_automatic_while_purchase_works(customer, compliance, catalogue, settings):
    settings.WUJI_AUTO_RENEW_DAYS_BEFORE = 31  # due at once
    sub = subscription(customer, catalogue)
    renewals.set_auto_renew(sub, enabled=True, actor=customer, channel="web")
    restrict(customer, compliance, F.RENEWAL)
    end, before = sub.period_end, ledger.balances(customer)
    with pytest.raises(renewals.RenewalRefused) as exc:
        renew(sub)
    assert exc.value.code == "function_restricted" and "续费" in str(exc.value)
    assert renewals.auto_renew_due() == {"refused": 1}
    sub.refresh_from_db()
    assert sub.period_end == end and ledger.balances(customer) == before
    assert not Instruction.objects.filter(action="subscription.renew").exists()
    assert order(customer, catalogue, key="second").pk  # purchase still allowed


def test_withdrawal_is_refused_while_purchase_works(customer, compliance, catalogue):
    paid_topup(customer, 50_00)
    restrict(customer, compliance, F.WITHDRAWAL)
    before = ledger.balances(customer)
    with pytest.raises(withdrawals.WithdrawalRefused) as exc:
        withdraw(customer)
    assert exc.value.code == "function_restricted" and "提现" in exc.value.message
    assert ledger.balances(customer) == before
    assert order(customer, catalogue).pk
    restrictions.lift(restriction=AccountRestriction.objects.get(), actor=compliance, reason="核实无误")
    assert withdraw(customer).amount_fen == 10_00


def test_api_key_of_a_restricted_user_gets_403_with_the_code_and_the_portal_session_still_works(
        customer, compliance, client):
    api = client_for(customer)
    restrict(customer, compliance, F.API)
    response = api.get(BALANCE)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "function_restricted" and "API 访问" in body["message"]
    client.force_login(customer)  # the session (portal, and the API from the portal's own pages) is unaffected
    assert client.get(reverse("portal:security")).status_code == 200
    assert client.get(BALANCE).status_code == 200
    other = testing.make_customer("other@example.com")
    assert client_for(other).get(BALANCE).status_code == 200  # only the restricted owner's keys


def test_api_refusal_of_a_purchase_carries_the_code(customer, compliance, catalogue):
    restrict(customer, compliance, F.PURCHASE)
    response = client_for(customer).post("/api/v1/orders/", {"region": "cn-ganzhou", "plan": "s1",
                                                             "image": "debian-12", "cycle": "monthly"},
                                         format="json", HTTP_IDEMPOTENCY_KEY="x1")
    assert response.status_code >= 400 and response.json()["code"] == "function_restricted"


# --- Portal and console -------------------------------------------------------------------------------------


def test_security_page_shows_the_users_own_open_restrictions_only(customer, other_customer, compliance, client):
    (restriction,) = restrict(customer, compliance, F.WITHDRAWAL, reason="涉嫌盗刷资金")
    client.force_login(customer)
    page = client.get(reverse("portal:security")).content.decode()
    assert 'data-testid="function-restrictions"' in page and "涉嫌盗刷资金" in page and "提现" in page
    client.force_login(other_customer)
    page = client.get(reverse("portal:security")).content.decode()
    assert "function-restrictions" not in page and "涉嫌盗刷资金" not in page
    restrictions.lift(restriction=restriction, actor=compliance, reason="ok")
    client.force_login(customer)
    assert "function-restrictions" not in client.get(reverse("portal:security")).content.decode()


def test_console_restrict_and_lift_for_compliance(customer, compliance, client):
    client.force_login(compliance)
    users = reverse("admin:accounts_user_changelist")
    page = client.post(users, {"action": "restrict_functions", "_selected_action": [customer.pk]})
    assert page.status_code == 200 and "限制的功能" in page.content.decode()
    response = client.post(users, {"action": "restrict_functions", "_selected_action": [customer.pk], "apply": "1",
                                   "functions": ["purchase", "api"], "reason": "滥用资源"})
    assert response.status_code == 302
    assert set(AccountRestriction.objects.values_list("function", flat=True)) == {"purchase", "api"}
    listing = reverse("admin:accounts_accountrestriction_changelist")
    opened = list(AccountRestriction.objects.values_list("pk", flat=True))
    response = client.post(listing, {"action": "lift_selected", "_selected_action": opened, "apply": "1",
                                     "reason": "整改完成"})
    assert response.status_code == 302
    assert not restrictions.open_restrictions_of(customer).exists()
    assert Instruction.objects.filter(action="account.restriction_lift", actor=compliance).count() == 2


def test_console_actions_are_hidden_from_support_staff(customer, client):
    support = staff("support@wuji.test", "support")
    client.force_login(support)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "restrict_functions" not in page
    response = client.post(reverse("admin:accounts_user_changelist"), {
        "action": "restrict_functions", "_selected_action": [customer.pk], "apply": "1", "functions": ["api"],
        "reason": "x"})
    assert not AccountRestriction.objects.exists() and response.status_code in (200, 302)
