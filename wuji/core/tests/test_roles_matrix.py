"""The console permission matrix (docs/roles.md, decision 0047): for every page registered on the console and every
role, a staff member whose only group is that role gets exactly the rights and actions the document's tables say;
a page or action the tables do not mention fails here. The groups are made by `migrate` from wuji/core/roles.py
and kept exact by `wuji roles sync`. A few refusals are also followed through the services themselves."""

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse

from wuji.accounts import restrictions
from wuji.accounts.choices import RestrictedFunction
from wuji.billing import freezes
from wuji.billing.models import Freeze
from wuji.core import roles, testing
from wuji.payments import withdrawals
from wuji.payments.choices import WithdrawalStatus
from wuji.payments.tests.helpers import paid_topup
from wuji.support.choices import TicketCategory

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "roles.md"
RIGHTS = ("view", "add", "change", "delete")
NONE = "—"
ROW = re.compile(r"^\|\s*`(?P<model>[a-z0-9_]+\.[a-z0-9_]+)`\s*\|(?P<rest>.*)\|\s*$")


def _section(text: str, heading: str) -> list[str]:
    body = text.split(f"\n## {heading}\n", 1)[1]
    return body.split("\n## ", 1)[0].splitlines()


def _cells(rest: str) -> list[str]:
    return [cell.strip() for cell in rest.split("|")]


def read_matrix() -> tuple[dict, dict]:
    """From docs/roles.md: pages {model: {role: set of rights}} and actions {(model, action): set of roles}."""
    text = DOC.read_text(encoding="utf-8")
    pages, actions = {}, {}
    for line in _section(text, "Console pages"):
        if match := ROW.match(line):
            cells = _cells(match["rest"])[1:]  # after the page's name
            assert len(cells) == len(roles.ROLES), line
            pages[match["model"]] = {role: set() if cell == NONE else {r.strip() for r in cell.split(",")}
                                     for role, cell in zip(roles.ROLES, cells, strict=True)}
            assert all(rights <= set(RIGHTS) for rights in pages[match["model"]].values()), line
    for line in _section(text, "Console actions"):
        if match := ROW.match(line):
            cells = _cells(match["rest"])
            action, marks = cells[0].strip("`"), cells[2:]
            assert len(marks) == len(roles.ROLES) and set(marks) <= {"✓", NONE}, line
            assert (match["model"], action) not in actions, f"{line}: listed twice"
            actions[match["model"], action] = {role for role, mark in zip(roles.ROLES, marks, strict=True)
                                               if mark == "✓"}
    return pages, actions


PAGES, ACTIONS = read_matrix()
REGISTRY = {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}


def staff_in(role: str | None, email: str | None = None):
    """An active staff member whose only group is `role` (None: a superuser)."""
    user = get_user_model().objects.create_user(email=email or f"{role or 'root'}@wuji.test",
                                                password=testing.PASSWORD, is_staff=True,
                                                is_superuser=role is None)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def console_request(user):
    request = RequestFactory().get("/console/")
    request.user = user
    return request


def rights_of(model_admin, request) -> set[str]:
    return {right for right in RIGHTS if getattr(model_admin, f"has_{right}_permission")(request)}


def actions_of(model_admin, request) -> set[str]:
    """The actions offered on the page's list, which a staff member only reaches with view or change."""
    if not model_admin.has_view_or_change_permission(request):
        return set()
    return set(model_admin.get_actions(request))


# --- The tables and the console mention the same pages and actions ---------------------------------------------


def test_every_console_page_is_in_the_matrix():
    assert set(REGISTRY) - set(PAGES) == set(), "console pages missing from docs/roles.md"
    assert set(PAGES) - set(REGISTRY) == set(), "docs/roles.md lists pages the console does not have"


def test_every_console_action_is_in_the_matrix():
    """A superuser is offered every action there is; each must be a row of the actions table, and back."""
    request = console_request(staff_in(None))
    offered = {(label, action) for label, model_admin in REGISTRY.items() for action in actions_of(model_admin,
                                                                                                  request)}
    assert offered - set(ACTIONS) == set(), "console actions missing from docs/roles.md"
    assert set(ACTIONS) - offered == set(), "docs/roles.md lists actions the console does not offer"


def test_superusers_view_every_page():
    request = console_request(staff_in(None))
    assert [label for label, model_admin in REGISTRY.items() if "view" not in rights_of(model_admin, request)] == []


# --- Each role gets exactly its row --------------------------------------------------------------------------


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_has_exactly_the_rights_and_actions_of_the_matrix(role):
    request = console_request(staff_in(role))
    wrong = []
    for label, model_admin in sorted(REGISTRY.items()):
        rights, expected = rights_of(model_admin, request), PAGES.get(label, {}).get(role)
        if rights != expected:
            wrong.append(f"{label}: rights {sorted(rights)}, docs/roles.md says {sorted(expected or ['nothing'])}")
        offered = actions_of(model_admin, request)
        listed = {action for (model, action), allowed in ACTIONS.items() if model == label and role in allowed}
        if offered != listed:
            wrong.append(f"{label}: actions {sorted(offered)}, docs/roles.md says {sorted(listed)}")
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", roles.ROLES)
def test_pages_without_view_are_refused_and_pages_with_it_open(client, role, catalogue):
    """Through HTTP: each list a role may not view answers 403; each one it may view answers 200."""
    client.force_login(staff_in(role))
    wrong = []
    for label, rights in sorted(PAGES.items()):
        app_label, model = label.split(".")
        status = client.get(reverse(f"admin:{app_label}_{model}_changelist")).status_code
        expected = 200 if rights[role] & {"view", "change"} else 403
        if status != expected:
            wrong.append(f"{label}: {status}, expected {expected}")
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)


def test_a_refused_action_posted_anyway_does_nothing(client, customer):
    """Support is not offered "freeze funds"; posting it by hand is ignored and nothing is frozen."""
    client.force_login(staff_in(roles.SUPPORT))
    response = client.post(reverse("admin:accounts_user_changelist"), {
        "action": "freeze_funds", admin.helpers.ACTION_CHECKBOX_NAME: [customer.pk], "apply": "1",
        "reason": "complaint", "outcome": "long_term", "evidence": "x"})
    assert response.status_code in (200, 302)
    assert not Freeze.objects.exists()


def test_staff_console_of_a_server_needs_change_not_view(client, customer, catalogue):
    """Support reads servers but may not open a customer's screen; operations may."""
    from wuji.billing import services as billing

    billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                        image=catalogue["image"], cycle="monthly", name="web", idempotency_key="k",
                        channel="web", ip="127.0.0.1")
    testing.run_tasks()
    server = customer.servers.get()
    url = reverse("admin:compute_server_console", args=[server.pk])
    client.force_login(staff_in(roles.SUPPORT))
    assert client.get(url).status_code == 403
    client.force_login(staff_in(roles.OPERATIONS))
    assert client.get(url).status_code == 200


# --- The groups: made by migrate, kept exact by `wuji roles sync` ----------------------------------------------


def test_migrate_left_each_group_with_exactly_its_permissions():
    assert roles.drift() == {}
    assert set(Group.objects.filter(name__in=roles.ROLES).values_list("name", flat=True)) == set(roles.ROLES)


def test_roles_sync_removes_extras_and_restores_what_is_missing(capsys):
    finance = Group.objects.get(name=roles.FINANCE)
    finance.permissions.add(Permission.objects.get(codename="change_user"))  # added by hand in the console
    finance.permissions.remove(Permission.objects.get(codename="change_withdrawal"))
    Group.objects.get(name=roles.OPERATIONS).delete()
    with pytest.raises(CommandError):
        call_command("roles", "check")
    assert set(roles.drift()) == {roles.FINANCE, roles.OPERATIONS}
    call_command("roles", "sync")
    assert roles.drift() == {}
    clerk = staff_in(roles.FINANCE)
    assert not clerk.has_perm("accounts.change_user") and clerk.has_perm("payments.change_withdrawal")
    call_command("roles", "check")
    assert "roles synced" in capsys.readouterr().out


def test_the_table_names_only_real_permissions():
    every = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    for role in roles.ROLES:
        assert roles.permissions_of(role) <= every, role


def test_every_ticket_category_is_answered_by_a_role():
    assert set(TicketCategory.ROLE.values()) <= set(roles.ROLES)
    assert set(TicketCategory.ROLE) == set(TicketCategory.values())


def test_capabilities_name_only_roles():
    assert all(set(holders) <= set(roles.ROLES) for holders in roles.CAPABILITIES.values())


# --- Refusals through the services themselves -------------------------------------------------------------------


def test_support_cannot_freeze_funds_and_compliance_can(customer):
    with pytest.raises(freezes.FreezeRefused) as refused:
        freezes.freeze_funds(customer=customer, staff=staff_in(roles.SUPPORT), reason="complaint",
                             outcome="long_term", amount_fen=10_00, evidence="投诉工单 #1")
    assert refused.value.code == "not_freeze_staff" and not Freeze.objects.exists()
    freezes.freeze_funds(customer=customer, staff=staff_in(roles.COMPLIANCE), reason="complaint",
                         outcome="long_term", amount_fen=10_00, evidence="投诉工单 #1")
    assert Freeze.objects.count() == 1


def test_finance_cannot_restrict_an_account_and_compliance_can(customer):
    functions = [RestrictedFunction.values()[0]]
    with pytest.raises(restrictions.RestrictionError) as refused:
        restrictions.restrict(user=customer, functions=functions, reason="违规", actor=staff_in(roles.FINANCE))
    assert refused.value.code == "not_restriction_staff" and not restrictions.open_restrictions_of(customer).exists()
    restrictions.restrict(user=customer, functions=functions, reason="违规", actor=staff_in(roles.COMPLIANCE))
    assert restrictions.open_restrictions_of(customer).count() == 1


def test_operations_cannot_approve_a_withdrawal_and_finance_can(catalogue):
    customer = testing.make_customer("withdraw@example.com")
    paid_topup(customer, 100_00)
    withdrawal = withdrawals.request_withdrawal(customer=customer, amount_fen=50_00, idempotency_key=uuid.uuid4().hex,
                                                factor="totp", channel="web", ip="127.0.0.1")
    assert withdrawal.status == WithdrawalStatus.AWAITING_APPROVAL
    with pytest.raises(withdrawals.WithdrawalRefused) as refused:
        withdrawals.approve_withdrawal(withdrawal, staff=staff_in(roles.OPERATIONS))
    assert refused.value.code == "not_finance_staff"
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.AWAITING_APPROVAL
    withdrawals.approve_withdrawal(withdrawal, staff=staff_in(roles.FINANCE))
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PROCESSING
    testing.run_tasks()
