"""Console: staff issue (with the PDF upload), reject and red-reverse fapiao, approve and reject contracts, confirm
general taxpayers, and see a full bank account only with a logged reason — all through the services."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuji.audit.models import DataAccess, Instruction
from wuji.billing import services as billing
from wuji.finance import services as finance
from wuji.finance.choices import ContractStatus, FapiaoStatus
from wuji.finance.models import GeneralTaxpayer

from .conftest import PDF, apply, spend

FAPIAO_URL = reverse("admin:finance_fapiaoapplication_changelist")


def act(admin_client, url, action, pks, **data):
    return admin_client.post(url, {"action": action, "_selected_action": pks, **data})


def test_issue_action_asks_for_number_and_pdf_then_issues(admin_client, customer):
    spend(customer, 30_00)
    application = apply(customer, 30_00)
    page = act(admin_client, FAPIAO_URL, "issue_selected", [application.pk])
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    upload = SimpleUploadedFile("f.pdf", PDF, content_type="application/pdf")
    response = act(admin_client, FAPIAO_URL, "issue_selected", [application.pk], apply="1",
                   fapiao_number="26360000000000000777", issued_on="2026-11-27", pdf=upload)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == FapiaoStatus.ISSUED and application.fapiao_number == "26360000000000000777"
    assert Instruction.objects.get(action="fapiao.issue").channel == "staff"
    download = admin_client.get(reverse("admin:finance_fapiaoapplication_pdf", args=[application.pk]))
    assert download.status_code == 200 and download.content == PDF
    # red reversal from the console
    response = act(admin_client, FAPIAO_URL, "red_reverse_selected", [application.pk], apply="1",
                   red_number="26360000000000000778", reason="客户退票")
    application.refresh_from_db()
    assert application.status == FapiaoStatus.REVERSED


def test_issue_action_refusal_is_shown_and_changes_nothing(admin_client, customer):
    spend(customer, 30_00)
    application = apply(customer, 30_00)
    response = act(admin_client, FAPIAO_URL, "issue_selected", [application.pk], apply="1",
                   fapiao_number="26360000000000000777", issued_on="2026-11-27")  # 数电票 without its PDF
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("PDF" in m for m in messages)
    application.refresh_from_db()
    assert application.status == FapiaoStatus.PENDING


def test_reject_action_needs_a_reason(admin_client, customer):
    spend(customer, 30_00)
    application = apply(customer, 30_00)
    page = act(admin_client, FAPIAO_URL, "reject_selected", [application.pk], apply="1", reason="")
    assert page.status_code == 200  # the form again, with the error
    act(admin_client, FAPIAO_URL, "reject_selected", [application.pk], apply="1", reason="抬头不符")
    application.refresh_from_db()
    assert application.status == FapiaoStatus.REJECTED and application.reject_reason == "抬头不符"


def test_general_taxpayer_confirmed_from_the_console_then_bank_account_revealed_with_a_logged_reason(
        admin_client, enterprise, customer):
    url = reverse("admin:finance_generaltaxpayer_add")
    refused = admin_client.post(url, {"customer_email": customer.email, "evidence": "材料"})
    assert refused.status_code == 200 and "企业实名认证" in refused.content.decode()
    response = admin_client.post(url, {"customer_email": enterprise.email, "evidence": "一般纳税人资格查询 2026-11-20"})
    assert response.status_code == 302
    assert GeneralTaxpayer.objects.get().customer == enterprise
    assert Instruction.objects.filter(action="fapiao.confirm_general_taxpayer").exists()

    spend(enterprise, 10_00)
    application = apply(enterprise, 10_00, fapiao_type="special", registered_address="赣州市示例路 1 号",
                        registered_phone="0797-1234567", bank_name="工商银行", bank_account="6222021234567890123")
    change = admin_client.get(reverse("admin:finance_fapiaoapplication_change", args=[application.pk]))
    assert "6222021234567890123" not in change.content.decode() and "0123" in change.content.decode()
    reveal = act(admin_client, FAPIAO_URL, "reveal_bank_account", [application.pk], apply="1", reason="开具专票")
    messages = [str(m) for m in reveal.wsgi_request._messages]
    assert any("6222021234567890123" in m for m in messages)
    access = DataAccess.objects.get()
    assert access.subject == enterprise and access.field == "fapiao_bank_account" and access.reason == "开具专票"


def test_contract_actions(admin_client, customer, catalogue):
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="x", idempotency_key="o",
                                   channel="web", ip=None)
    contract = finance.apply_for_contract(customer, order=order)
    url = reverse("admin:finance_contract_changelist")
    act(admin_client, url, "approve_selected", [contract.pk])
    contract.refresh_from_db()
    assert contract.status == ContractStatus.APPROVED and contract.number
    pdf = admin_client.get(reverse("admin:finance_contract_pdf", args=[contract.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_console_pdf_needs_staff_rights(client, customer, catalogue):
    client.force_login(customer)
    assert client.get(reverse("admin:finance_contract_pdf", args=[1])).status_code == 302  # to the admin login


def test_console_lists_and_forms_render(admin_client, enterprise, customer, staff):
    spend(customer, 10_00)
    application = apply(customer, 10_00)
    confirmation = finance.confirm_general_taxpayer(enterprise, staff, evidence="材料")
    for url in (FAPIAO_URL, reverse("admin:finance_contract_changelist"),
                reverse("admin:finance_generaltaxpayer_changelist"), reverse("admin:finance_generaltaxpayer_add"),
                reverse("admin:finance_generaltaxpayer_change", args=[confirmation.pk]),
                reverse("admin:finance_fapiaoapplication_change", args=[application.pk])):
        assert admin_client.get(url).status_code == 200, url
