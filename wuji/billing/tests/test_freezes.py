"""Fund freezes (5.4) and appeals (5.4.7): frozen money cannot be spent or withdrawn; the customer is told on
every channel and appeals once before the deadline; staff (another one: four-eyes) uphold or reject; the
deadline job applies the outcome (long-term freeze or refund to source); owners only see their own."""

import datetime as dt

import pytest
from django.urls import reverse

from wuji.accounts.tests.helpers import customer_with_phone
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.billing import freezes
from wuji.billing import services as billing
from wuji.billing.choices import AppealStatus, FreezeState
from wuji.billing.models import Freeze, FreezeFile
from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.notifications.models import Delivery, Notice
from wuji.payments import withdrawals
from wuji.payments.choices import WithdrawalKind, WithdrawalStatus
from wuji.payments.tests.helpers import paid_topup, staff

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def compliance(db):
    return staff("compliance@wuji.test", "compliance")


@pytest.fixture
def finance(db):
    return staff("finance@wuji.test", "finance")


def freeze(customer, by, amount=60_00, outcome="long_term", **kw):
    return freezes.freeze_funds(customer=customer, staff=by, reason="abnormal_activity", outcome=outcome,
                                amount_fen=amount, note="资金进出异常，请说明来源。", evidence="风控规则 R12 命中",
                                files=[freezes.Upload("evidence.png", PNG)], **kw)


def appeal(f, customer, text="这是我的工资收入。"):
    return freezes.submit_appeal(freeze=f, customer=customer, text=text, files=[freezes.Upload("slip.png", PNG)],
                                 channel="web")


def test_freeze_moves_cash_to_frozen_and_tells_the_customer_on_every_channel(catalogue, compliance):
    customer = customer_with_phone("frozen@example.com", "13800138000")
    testing.fund(customer, 100_00)
    f = freeze(customer, compliance)
    assert ledger.balances(customer) == {"cash": 40_00, "gift": 0, "frozen": 60_00}
    assert f.freeze_transaction.idempotency_key == f"freeze:{f.pk}"
    assert f.appeal_deadline == f.created_at + dt.timedelta(days=7)
    notice = Notice.objects.get(recipient=customer, event="billing.funds_frozen")
    assert notice.mandatory and "¥60.00" in notice.body and "5.4.4" in notice.body
    assert reverse("portal:freeze", args=[f.pk]) in notice.body
    assert set(Delivery.objects.filter(notice=notice).values_list("channel", flat=True)) == {"inbox", "email", "sms"}
    evidence = FreezeFile.objects.get(freeze=f, kind="evidence")
    assert PNG not in evidence.file.read() and freezes.file_content(evidence) == PNG  # encrypted at rest
    assert Instruction.objects.get(action="funds.freeze").params["amount_fen"] == 60_00
    assert ledger.verify() == []


def test_freeze_refusals_change_nothing(catalogue, compliance):
    customer = testing.make_customer("refuse@example.com", balance_fen=50_00)
    with pytest.raises(freezes.FreezeRefused) as over:
        freeze(customer, compliance, amount=50_01)
    assert over.value.field == "amount"
    with pytest.raises(freezes.FreezeRefused):
        freezes.freeze_funds(customer=customer, staff=compliance, reason="because", outcome="long_term",
                             amount_fen=10_00, evidence="x")
    with pytest.raises(freezes.FreezeRefused):
        freeze(customer, testing.make_customer("not-staff@example.com"))
    with pytest.raises(freezes.FreezeRefused) as no_evidence:
        freezes.freeze_funds(customer=customer, staff=compliance, reason="law", outcome="refund", evidence=" ")
    assert no_evidence.value.field == "evidence"
    with pytest.raises(freezes.FreezeRefused):
        freezes.freeze_funds(customer=customer, staff=compliance, reason="law", outcome="refund", evidence="x",
                             files=[freezes.Upload("a.exe", b"MZ\x90")])
    assert ledger.balances(customer)["frozen"] == 0 and not customer.freezes.exists()


def test_frozen_money_cannot_be_spent_or_withdrawn(catalogue, compliance):
    customer = testing.make_customer("nospend@example.com", balance_fen=30_00)
    freezes.freeze_funds(customer=customer, staff=compliance, reason="authority", outcome="long_term",
                         evidence="协查函 2026-001")  # all cash
    assert ledger.balances(customer) == {"cash": 0, "gift": 0, "frozen": 30_00}
    with pytest.raises(billing.InsufficientBalance):
        billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                            image=catalogue["image"], cycle="monthly", name="x", idempotency_key="k", channel="web",
                            ip=None)
    testing.fund(customer, 50_00)
    with pytest.raises(withdrawals.WithdrawalRefused) as refused:
        withdrawals.request_withdrawal(customer=customer, amount_fen=20_00, idempotency_key="w", factor="totp",
                                       channel="web", ip=None)
    assert refused.value.code == "funds_frozen"
    assert ledger.verify() == []


def test_appeal_before_deadline_upheld_by_another_staff_member_unfreezes_at_once(catalogue, compliance, finance):
    customer = testing.make_customer("appeal@example.com", balance_fen=100_00)
    f = freeze(customer, compliance)
    clock.advance(dt.timedelta(days=6, hours=23))
    appeal(f, customer)
    f.refresh_from_db()
    assert f.state == FreezeState.APPEALED and FreezeFile.objects.filter(freeze=f, kind="appeal").count() == 1
    with pytest.raises(freezes.FreezeRefused) as again:
        appeal(f, customer, "再申诉一次")
    assert again.value.code == "already_appealed"
    with pytest.raises(freezes.FreezeRefused) as same:
        freezes.uphold_appeal(freeze=f, staff=compliance, reason="材料属实")
    assert same.value.code == "four_eyes"
    clock.advance(dt.timedelta(days=30))  # an appeal in review is never overtaken by the deadline job
    assert freezes.apply_due_outcomes() == 0
    freezes.uphold_appeal(freeze=f, staff=finance, reason="材料属实")
    f.refresh_from_db()
    assert f.state == FreezeState.LIFTED and f.held_fen == 0 and f.appeal.status == AppealStatus.UPHELD
    assert ledger.balances(customer) == {"cash": 100_00, "gift": 0, "frozen": 0}
    assert Notice.objects.filter(recipient=customer, event="billing.funds_unfrozen").exists()
    assert {"funds.freeze", "funds.appeal", "funds.appeal_uphold"} <= set(
        Instruction.objects.values_list("action", flat=True))
    assert ledger.verify() == []


def test_appeal_after_deadline_is_refused(catalogue, compliance):
    customer = testing.make_customer("late@example.com", balance_fen=100_00)
    f = freeze(customer, compliance)
    clock.advance(dt.timedelta(days=7, minutes=1))
    with pytest.raises(freezes.FreezeRefused) as late:
        appeal(f, customer)
    assert late.value.code == "deadline_passed"
    f.refresh_from_db()
    assert f.state == FreezeState.FROZEN and not hasattr(f, "appeal")


def test_rejected_appeal_leads_to_long_term_freeze(catalogue, compliance, finance):
    customer = testing.make_customer("reject@example.com", balance_fen=100_00)
    f = freeze(customer, compliance)
    appeal(f, customer)
    with pytest.raises(freezes.FreezeRefused):
        freezes.reject_appeal(freeze=f, staff=finance, reason="")
    freezes.reject_appeal(freeze=f, staff=finance, reason="材料不足以证明资金来源")
    f.refresh_from_db()
    assert f.state == FreezeState.LONG_TERM and f.appeal.status == AppealStatus.REJECTED
    assert ledger.balances(customer)["frozen"] == 60_00
    notice = Notice.objects.get(recipient=customer, event="billing.freeze_outcome")
    assert "材料不足以证明资金来源" in notice.body and "长期冻结" in notice.body
    freezes.lift_freeze(freeze=f, staff=finance, reason="司法解除")  # staff may lift at any time
    assert ledger.balances(customer) == {"cash": 100_00, "gift": 0, "frozen": 0}
    assert ledger.verify() == []


def test_rejected_appeal_with_refund_decided_at_review(catalogue, compliance, finance):
    customer = testing.make_customer("rejectrefund@example.com")
    topup = paid_topup(customer, 100_00, "sandbox")
    f = freeze(customer, compliance)
    appeal(f, customer)
    freezes.reject_appeal(freeze=f, staff=finance, reason="错误汇入资金，原路退回", outcome="refund")
    testing.run_tasks()
    f.refresh_from_db()
    refund = f.refunds.get()
    assert f.state == FreezeState.REFUNDED and f.held_fen == 0
    assert refund.kind == WithdrawalKind.FROZEN_REFUND and refund.status == WithdrawalStatus.COMPLETED
    assert [(r.topup_id, r.amount_fen, r.status) for r in refund.refunds.all()] == [(topup.pk, 60_00, "succeeded")]
    assert ledger.balances(customer) == {"cash": 40_00, "gift": 0, "frozen": 0}
    assert ledger.verify() == []


def test_deadline_job_applies_each_freezes_outcome(catalogue, compliance):
    keep = testing.make_customer("keep@example.com", balance_fen=100_00)
    back = testing.make_customer("back@example.com")
    paid_topup(back, 100_00, "sandbox")
    kept = freeze(keep, compliance, outcome="long_term")
    refunded = freeze(back, compliance, outcome="refund")
    clock.advance(dt.timedelta(days=6))
    assert freezes.apply_due_outcomes() == 0
    clock.advance(dt.timedelta(days=1, minutes=1))
    from wuji.billing import tasks
    tasks.apply_freeze_outcomes.enqueue()
    testing.run_tasks()
    assert freezes.apply_due_outcomes() == 0  # idempotent
    kept.refresh_from_db()
    refunded.refresh_from_db()
    assert kept.state == FreezeState.LONG_TERM and ledger.balances(keep)["frozen"] == 60_00
    assert refunded.state == FreezeState.REFUNDED and ledger.balances(back) == {"cash": 40_00, "gift": 0, "frozen": 0}
    assert refunded.refunds.get().status == WithdrawalStatus.COMPLETED
    assert Notice.objects.filter(event="billing.freeze_outcome").count() == 2
    decisions = Instruction.objects.filter(action="funds.freeze_outcome", channel="system", refers_to__isnull=True)
    assert decisions.count() == 2
    # The refund the decision started was paid out: the decision has its outcome (decision 0052).
    assert [list(d.outcomes.values_list("result", flat=True)) for d in decisions.order_by("seq")] in (
        [[], ["succeeded"]], [["succeeded"], []])
    assert ledger.verify() == []


def test_failed_frozen_refund_goes_back_to_frozen_and_the_freeze_holds_it(catalogue, compliance, finance, settings):
    from wuji.payments import gateways
    from wuji.payments.tests.helpers import ScriptedGateway, result

    settings.WUJI_REFUND_WINDOW_DAYS = {"scripted": 365}
    gateway = gateways.register(ScriptedGateway("scripted"))
    try:
        customer = testing.make_customer("bounce@example.com")
        paid_topup(customer, 100_00, "scripted")
        gateway.script = [result("failed", message="账户已注销")]
        f = freeze(customer, compliance, outcome="refund")
        clock.advance(dt.timedelta(days=8))
        freezes.apply_due_outcomes()
        testing.run_tasks()
        f.refresh_from_db()
        assert f.state == FreezeState.LONG_TERM and f.held_fen == 60_00
        assert ledger.balances(customer) == {"cash": 40_00, "gift": 0, "frozen": 60_00}
        freezes.lift_freeze(freeze=f, staff=finance, reason="改为解冻")
        assert ledger.balances(customer) == {"cash": 100_00, "gift": 0, "frozen": 0}
    finally:
        gateways._GATEWAYS.pop("scripted", None)
    assert ledger.verify() == []


def test_portal_freeze_page_and_appeal_with_attachment(catalogue, compliance, client):
    customer = testing.make_customer("portal@example.com", balance_fen=100_00)
    f = freeze(customer, compliance)
    client.force_login(customer)
    page = client.get(reverse("portal:freezes")).content.decode()
    assert "¥60.00" in page and "账户操作、资金进出等存在异常" in page
    detail = client.get(reverse("portal:freeze", args=[f.pk])).content.decode()
    assert "风控规则" not in detail  # internal evidence is never shown
    from django.core.files.uploadedfile import SimpleUploadedFile
    response = client.post(reverse("portal:freeze", args=[f.pk]), {
        "text": "资金为本人工资。", "files": [SimpleUploadedFile("slip.png", PNG, "image/png")]})
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.state == FreezeState.APPEALED and f.appeal.text == "资金为本人工资。"
    assert client.get(reverse("portal:freeze", args=[f.pk])).content.decode().count("slip.png") == 1
    again = client.post(reverse("portal:freeze", args=[f.pk]), {"text": "再来一次"})
    assert "每项冻结只能申诉一次" in again.content.decode()
    empty = testing.make_customer("empty@example.com", balance_fen=10_00)
    f2 = freeze(empty, compliance, amount=10_00)
    client.force_login(empty)
    blank = client.post(reverse("portal:freeze", args=[f2.pk]), {"text": " "})
    assert blank.status_code == 200 and 'class="field has-error"' in blank.content.decode()
    f2.refresh_from_db()
    assert f2.state == FreezeState.FROZEN and not hasattr(f2, "appeal")


def test_api_lists_freezes_and_takes_an_appeal(catalogue, compliance):
    customer = testing.make_customer("apif@example.com", balance_fen=100_00)
    f = freeze(customer, compliance)
    api = client_for(customer)
    listed = api.get("/api/v1/freezes/").json()
    assert len(listed["results"]) == 1
    assert listed["results"][0]["can_appeal"] and listed["results"][0]["amount_fen"] == 60_00
    assert "evidence" not in listed["results"][0]
    missing = api.post(f"/api/v1/freezes/{f.pk}/appeal/", {}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "text"
    response = api.post(f"/api/v1/freezes/{f.pk}/appeal/", {"text": "收入证明见附件"}, format="json")
    assert response.status_code == 201 and response.json()["state"] == "appealed"
    again = api.post(f"/api/v1/freezes/{f.pk}/appeal/", {"text": "again"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_appealed"


def test_owner_boundary_for_freezes_in_portal_and_api(catalogue, compliance, client):
    alice = testing.make_customer("alice-f@example.com", balance_fen=100_00)
    bob = testing.make_customer("bob-f@example.com", balance_fen=100_00)
    f = freeze(alice, compliance)
    client.force_login(bob)
    assert client.get(reverse("portal:freeze", args=[f.pk])).status_code == 404
    assert client.post(reverse("portal:freeze", args=[f.pk]), {"text": "not mine"}).status_code == 404
    api = client_for(bob)
    assert api.get(f"/api/v1/freezes/{f.pk}/").status_code == 404
    assert api.post(f"/api/v1/freezes/{f.pk}/appeal/", {"text": "x"}, format="json").status_code == 404
    assert api.get("/api/v1/freezes/").json()["results"] == []
    f.refresh_from_db()
    assert f.state == FreezeState.FROZEN
    with pytest.raises(Freeze.DoesNotExist):
        freezes.submit_appeal(freeze=f, customer=bob, text="x", channel="web")
    assert ledger.verify() == []


def test_console_freeze_action_on_customers_and_lift_from_the_freeze_admin(catalogue, client, settings):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    boss = get_user_model().objects.create_superuser(email="root@wuji.test", password="Root-Pass-2024!")
    customer = testing.make_customer("console@example.com", balance_fen=100_00)
    client.force_login(boss)
    url = reverse("admin:accounts_user_changelist")
    page = client.post(url, {"action": "freeze_funds", "_selected_action": [customer.pk]})
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    response = client.post(url, {"action": "freeze_funds", "_selected_action": [customer.pk], "apply": "1",
                                 "amount": "25.50", "reason": "law", "outcome": "refund", "note": "",
                                 "evidence": "法院协助冻结通知书",
                                 "files": [SimpleUploadedFile("n.pdf", b"%PDF-1.4 x")]})
    assert response.status_code == 302
    f = customer.freezes.get()
    assert f.amount_fen == 25_50 and f.files.get().content_type == "application/pdf"
    settings.WUJI_FREEZE_SAME_STAFF_MAY_DECIDE = True
    response = client.post(reverse("admin:billing_freeze_changelist"), {
        "action": "lift", "_selected_action": [f.pk], "apply": "1", "reason": "法院解除冻结"})
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.state == FreezeState.LIFTED and ledger.balances(customer)["cash"] == 100_00
    assert client.get(reverse("admin:billing_freeze_change", args=[f.pk])).status_code == 200
    assert ledger.verify() == []
