"""The 发票与合同 portal page: figures, title, applying, refusals shown by field, cancelling, downloads and owner
boundaries (someone else's application, fapiao or contract is 404)."""

import pytest
from django.urls import reverse

from wuji.billing import services as billing
from wuji.finance import services as finance
from wuji.finance.choices import FapiaoStatus
from wuji.finance.models import Contract, FapiaoApplication

from .conftest import PDF, apply, issue, refund_cash, spend

URL = "/finance/"


@pytest.fixture
def alice(client, customer):
    client.force_login(customer)
    return client


def buy(customer, catalogue, key="p1"):
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="web-1", idempotency_key=key,
                                   channel="web", ip="127.0.0.1")
    return order


def test_page_shows_invoiceable_debt_and_title(alice, customer, staff):
    spend(customer, 60_00)
    issue(apply(customer, 60_00), staff)
    refund_cash(customer, 20_00)
    page = alice.get(reverse("portal:finance"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="invoice-debt">¥20.00<' in html and 'data-testid="debt-notice"' in html
    assert "测试用户" in html and "个人（仅可开具普票）" in html
    assert 'class="active" aria-current="page">发票与合同' in html


def test_apply_from_the_portal_and_the_refusal_names_the_field(alice, customer):
    spend(customer, 30_00)
    form = {"amount": "40.00", "fapiao_type": "normal", "medium": "electronic", "idempotency_key": "p-1"}
    page = alice.post(reverse("portal:finance"), form)
    assert page.status_code == 200 and "超过可开票金额" in page.content.decode()
    assert not FapiaoApplication.objects.exists()
    response = alice.post(reverse("portal:finance"), {**form, "amount": "30.00"})
    assert response.status_code == 302
    assert FapiaoApplication.objects.get().amount_fen == 30_00
    assert alice.post(reverse("portal:finance"), {**form, "amount": "30.00"}).status_code == 302  # double submit
    assert FapiaoApplication.objects.count() == 1


def test_individual_is_not_offered_special_fapiao(alice, customer):
    spend(customer, 30_00)
    page = alice.post(reverse("portal:finance"), {"amount": "10", "fapiao_type": "special", "medium": "electronic",
                                                  "idempotency_key": "p-2"})
    assert page.status_code == 200 and 'value="special"' not in page.content.decode()
    assert not FapiaoApplication.objects.exists()


def test_unverified_customer_sees_the_way_to_verify(client, catalogue):
    from wuji.core import testing

    client.force_login(testing.make_customer("unverified@example.com", verified=False))
    html = client.get(reverse("portal:finance")).content.decode()
    assert "开具发票需要先完成实名认证" in html and reverse("portal:identity") in html


def test_cancel_and_download_own_and_404_for_someone_else(alice, client, customer, other_customer, staff):
    spend(customer, 50_00)
    pending, issued = apply(customer, 10_00), issue(apply(customer, 20_00), staff)
    spend(other_customer, 50_00)
    theirs_pending, theirs_issued = apply(other_customer, 10_00), issue(apply(other_customer, 20_00), staff)

    response = alice.get(reverse("portal:fapiao_pdf", args=[issued.pk]))
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert alice.get(reverse("portal:fapiao_pdf", args=[theirs_issued.pk])).status_code == 404
    assert alice.post(reverse("portal:fapiao_cancel", args=[theirs_pending.pk])).status_code == 404
    theirs_pending.refresh_from_db()
    assert theirs_pending.status == FapiaoStatus.PENDING
    assert alice.post(reverse("portal:fapiao_cancel", args=[pending.pk])).status_code == 302
    pending.refresh_from_db()
    assert pending.status == FapiaoStatus.CANCELLED
    html = alice.get(reverse("portal:finance")).content.decode()
    assert f'data-testid="fapiao-{theirs_issued.pk}"' not in html


def test_contracts_apply_download_and_owner_boundary(alice, customer, other_customer, catalogue, staff):
    mine, theirs = buy(customer, catalogue, "a"), buy(other_customer, catalogue, "b")
    assert alice.post(reverse("portal:contract_apply"), {"order": theirs.pk}).status_code == 404
    assert not Contract.objects.exists()
    assert alice.post(reverse("portal:contract_apply"), {"order": mine.pk}).status_code == 302
    contract = finance.approve_contract(Contract.objects.get(), staff)
    response = alice.get(reverse("portal:contract_pdf", args=[contract.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    their_contract = finance.approve_contract(finance.apply_for_contract(other_customer, order=theirs), staff)
    assert alice.get(reverse("portal:contract_pdf", args=[their_contract.pk])).status_code == 404
    # applying twice for the same order is refused with the reason shown
    page = alice.post(reverse("portal:contract_apply"), {"order": mine.pk}, follow=True)
    assert "该订单已有合同申请" in page.content.decode()


def test_pages_need_sign_in(client, db):
    assert client.get(URL).status_code == 302


def test_instruction_log_names_finance_actions(alice, customer):
    spend(customer, 10_00)
    apply(customer, 10_00)
    html = alice.get(reverse("portal:instructions")).content.decode()
    assert "申请发票" in html and "fapiao.apply" not in html
