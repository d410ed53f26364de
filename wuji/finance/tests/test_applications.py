"""Applying for fapiao, each refusal, titles, 专票 and general taxpayers, staff issue / reject / red reversal."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.core import testing
from wuji.finance import services as finance
from wuji.finance.choices import FapiaoStatus
from wuji.finance.models import FapiaoApplication
from wuji.ledger import services as ledger
from wuji.notifications.models import Notice

from .conftest import CREDIT_CODE, PDF, apply, issue, make_enterprise, refund_cash, spend

SPECIAL = {"registered_address": "江西省赣州市章贡区示例路 1 号", "registered_phone": "0797-1234567",
           "bank_name": "中国工商银行赣州分行", "bank_account": "6222 0212 3456 7890 123"}


@pytest.fixture(autouse=True)
def ledger_stays_sound(db):
    yield
    assert ledger.verify() == []


def errors_of(info) -> dict:
    return info.value.message_dict


def nothing_written(customer):
    return not FapiaoApplication.objects.filter(customer=customer).exists()


# --- Applying -----------------------------------------------------------------------------------------


def test_individual_applies_for_a_normal_fapiao_titled_with_the_verified_name(customer):
    spend(customer, 50_00)
    application = apply(customer, 50_00, fapiao_type="normal")
    assert application.status == FapiaoStatus.PENDING
    assert application.title_kind == "individual" and application.title_name == "测试用户"
    assert application.taxpayer_id == "" and application.medium == "electronic"
    assert application.email == customer.email
    record = Instruction.objects.get(action="fapiao.apply")
    assert record.owner == customer and record.actor == customer and record.params["amount_fen"] == 50_00
    assert record.ip == "203.0.113.5"
    assert Notice.objects.filter(recipient=customer, event="finance.fapiao_applied").exists()


def test_enterprise_title_carries_the_unified_social_credit_code(enterprise):
    spend(enterprise, 20_00)
    application = apply(enterprise, 20_00)
    assert application.title_kind == "enterprise"
    assert application.title_name == "赣州示例科技有限公司" and application.taxpayer_id == CREDIT_CODE


def test_same_idempotency_key_returns_the_first_application(customer):
    spend(customer, 50_00)
    first = apply(customer, 10_00, idempotency_key="once")
    again = apply(customer, 10_00, idempotency_key="once")
    assert first.pk == again.pk and FapiaoApplication.objects.count() == 1
    assert finance.invoiceable_fen(customer) == 40_00


def test_amount_above_invoiceable_is_refused(customer):
    spend(customer, 50_00)
    with pytest.raises(ValidationError) as info:
        apply(customer, 50_01)
    assert "可开票金额" in errors_of(info)["amount"][0]
    assert nothing_written(customer)


def test_second_application_cannot_take_what_a_pending_one_reserved(customer):
    spend(customer, 50_00)
    apply(customer, 50_00)
    with pytest.raises(ValidationError) as info:
        apply(customer, 50_00)
    assert "amount" in errors_of(info)
    assert FapiaoApplication.objects.count() == 1


def test_amount_below_the_minimum_is_refused(customer, settings):
    settings.WUJI_FAPIAO_MIN_FEN = 100_00
    spend(customer, 99_00)
    with pytest.raises(ValidationError) as info:
        apply(customer, 99_00)
    assert "¥100.00" in errors_of(info)["amount"][0]
    assert nothing_written(customer)


def test_paper_fapiao_has_its_own_minimum_and_needs_a_mailing_address(customer):
    spend(customer, 99_00)
    with pytest.raises(ValidationError) as info:
        apply(customer, 99_00, medium="paper")
    errors = errors_of(info)
    assert "¥100.00" in errors["amount"][0] and "邮寄地址" in errors["mailing_address"][0]
    assert nothing_written(customer)


def test_zero_or_non_integer_amount_is_refused(customer):
    spend(customer, 10_00)
    for amount in (0, -5, "10"):
        with pytest.raises(ValidationError) as info:
            apply(customer, amount)
        assert "amount" in errors_of(info)
    assert nothing_written(customer)


def test_unverified_customer_is_refused(catalogue):
    unverified = testing.make_customer("nobody@example.com", balance_fen=100_00, verified=False)
    spend(unverified, 10_00)
    with pytest.raises(ValidationError) as info:
        apply(unverified, 10_00)
    assert "实名认证" in errors_of(info)["__all__"][0]
    assert nothing_written(unverified)


def test_individual_asking_for_special_fapiao_is_refused(customer):
    spend(customer, 10_00)
    with pytest.raises(ValidationError) as info:
        apply(customer, 10_00, fapiao_type="special", **SPECIAL)
    assert "个人" in errors_of(info)["fapiao_type"][0]
    assert nothing_written(customer)


def test_enterprise_without_general_taxpayer_confirmation_asking_for_special_is_refused(enterprise):
    spend(enterprise, 10_00)
    with pytest.raises(ValidationError) as info:
        apply(enterprise, 10_00, fapiao_type="special", **SPECIAL)
    assert "一般纳税人" in errors_of(info)["fapiao_type"][0]
    assert nothing_written(enterprise)


def test_unknown_type_medium_and_bad_email_are_refused_by_field(customer):
    spend(customer, 10_00)
    with pytest.raises(ValidationError) as info:
        apply(customer, 10_00, fapiao_type="gold", medium="fax", email="not-an-address")
    assert set(errors_of(info)) == {"fapiao_type", "medium", "email"}


# --- 专票 and general taxpayers ------------------------------------------------------------------------


def test_confirmed_general_taxpayer_gets_special_fapiao_with_account_encrypted_and_masked(enterprise, staff):
    spend(enterprise, 30_00)
    with pytest.raises(ValidationError) as info:
        finance.confirm_general_taxpayer(enterprise, staff, evidence="")
    assert "evidence" in errors_of(info)
    finance.confirm_general_taxpayer(enterprise, staff, evidence="国家税务总局一般纳税人资格查询，2026-11-20",
                                     ip="10.0.0.1")
    assert finance.title_of(enterprise).allowed_types == ["normal", "special"]
    assert Instruction.objects.filter(action="fapiao.confirm_general_taxpayer", owner=enterprise).exists()

    with pytest.raises(ValidationError) as info:
        apply(enterprise, 30_00, fapiao_type="special", **{**SPECIAL, "bank_account": "12ab", "bank_name": ""})
    assert set(errors_of(info)) == {"bank_account", "bank_name"}

    application = apply(enterprise, 30_00, fapiao_type="special", **SPECIAL)
    assert application.bank_account_masked == "*" * 15 + "0123"
    assert "6222021234567890123" not in application.bank_account_encrypted
    assert finance.bank_account_of(application) == "6222021234567890123"
    record = Instruction.objects.get(action="fapiao.apply")
    assert "6222021234567890123" not in str(record.params)


def test_general_taxpayer_confirmation_needs_an_enterprise_and_follows_its_identity(customer, enterprise, staff):
    with pytest.raises(ValidationError) as info:
        finance.confirm_general_taxpayer(customer, staff, evidence="材料")
    assert "企业" in errors_of(info)["customer"][0]
    confirmation = finance.confirm_general_taxpayer(enterprise, staff, evidence="材料")
    with pytest.raises(ValidationError):
        finance.confirm_general_taxpayer(enterprise, staff, evidence="again")
    finance.revoke_general_taxpayer(confirmation, staff, "资格已变更")
    assert finance.title_of(enterprise).allowed_types == ["normal"]
    with pytest.raises(finance.FinanceRefused):
        finance.revoke_general_taxpayer(confirmation, staff, "again")


def test_confirmation_does_not_carry_over_to_another_enterprise_identity(catalogue, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wuji.identity import services as identity
    from wuji.identity import testing as identity_testing

    from .conftest import PNG

    corp = make_enterprise("corp2@example.com")
    finance.confirm_general_taxpayer(corp, staff, evidence="材料")
    licence = SimpleUploadedFile("licence.png", PNG, content_type="image/png")
    other = identity.submit_enterprise(corp, company_name="另一家公司", credit_code="91350100M000100Y43",
                                       legal_representative="李四", document=licence)
    identity.approve(other, identity_testing.reviewer())
    assert finance.title_of(corp).general_taxpayer is None


# --- Staff: issue, reject, red reversal ------------------------------------------------------------------


def test_staff_issue_records_number_date_and_pdf_and_tell_the_customer(customer, staff):
    spend(customer, 50_00)
    application = apply(customer, 50_00)
    finance.issue_fapiao(application, staff, number="26360000000012345678", issued_on=dt.date(2026, 11, 27),
                         pdf=PDF, ip="10.0.0.1")
    assert application.status == FapiaoStatus.ISSUED and application.fapiao_number == "26360000000012345678"
    assert application.issued_on == dt.date(2026, 11, 27) and application.reviewed_by == staff
    assert finance.fapiao_pdf(application) == PDF
    record = Instruction.objects.get(action="fapiao.issue")
    assert record.actor == staff and record.owner == customer and record.channel == "staff"
    notice = Notice.objects.get(recipient=customer, event="finance.fapiao_issued")
    assert "26360000000012345678" in notice.subject
    assert audit.verify() == []


def test_issue_refusals(customer, staff):
    spend(customer, 50_00)
    application = apply(customer, 50_00)
    with pytest.raises(ValidationError) as info:
        finance.issue_fapiao(application, staff, number="12ab", pdf=PDF)
    assert "fapiao_number" in errors_of(info)
    with pytest.raises(ValidationError) as info:
        finance.issue_fapiao(application, staff, number="12345678", pdf=None)
    assert "pdf" in errors_of(info)
    with pytest.raises(ValidationError) as info:
        finance.issue_fapiao(application, staff, number="12345678", pdf=b"GIF89a")
    assert "pdf" in errors_of(info)
    application.refresh_from_db()
    assert application.status == FapiaoStatus.PENDING


def test_issue_is_refused_when_a_refund_since_the_application_would_create_debt(customer, staff):
    spend(customer, 50_00)
    application = apply(customer, 50_00)
    refund_cash(customer, 10_00)
    with pytest.raises(finance.FinanceRefused):
        issue(application, staff)
    finance.reject_application(application, staff, "已退款，请按新金额重新申请")
    assert finance.invoiceable_fen(customer) == 40_00


def test_fapiao_numbers_are_unique_in_the_service_and_the_database(customer, staff):
    spend(customer, 50_00)
    first, second = apply(customer, 20_00), apply(customer, 20_00)
    issue(first, staff, "26360000000000000001")
    with pytest.raises(ValidationError) as info:
        issue(second, staff, "26360000000000000001")
    assert "已被使用" in errors_of(info)["fapiao_number"][0]
    with pytest.raises(ValidationError):  # a red number cannot reuse a blue one either
        finance.red_reverse(first, staff, red_number="26360000000000000001", reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        FapiaoApplication.objects.filter(pk=second.pk).update(fapiao_number="26360000000000000001")


def test_reject_needs_a_reason_and_only_pending_can_be_rejected_or_cancelled(customer, staff):
    spend(customer, 50_00)
    application = apply(customer, 10_00)
    with pytest.raises(ValidationError):
        finance.reject_application(application, staff, "  ")
    finance.reject_application(application, staff, "抬头有误")
    assert application.status == FapiaoStatus.REJECTED and application.reject_reason == "抬头有误"
    assert Notice.objects.filter(recipient=customer, event="finance.fapiao_rejected").exists()
    with pytest.raises(finance.FinanceRefused):
        finance.cancel_application(application, customer)
    with pytest.raises(finance.FinanceRefused):
        issue(application, staff)


def test_customer_cancels_only_their_own_pending_application(customer, other_customer):
    spend(customer, 50_00)
    application = apply(customer, 10_00)
    with pytest.raises(finance.FinanceRefused):
        finance.cancel_application(application, other_customer)
    finance.cancel_application(application, customer, channel="api", ip="203.0.113.5")
    assert application.status == FapiaoStatus.CANCELLED
    assert Instruction.objects.get(action="fapiao.cancel").channel == "api"


def test_red_reversal_only_of_issued_with_reason_and_valid_number(customer, staff):
    spend(customer, 50_00)
    application = apply(customer, 10_00)
    with pytest.raises(finance.FinanceRefused):
        finance.red_reverse(application, staff, red_number="26360000000000000009", reason="x")
    issue(application, staff)
    with pytest.raises(ValidationError) as info:
        finance.red_reverse(application, staff, red_number="26360000000000000009", reason="")
    assert "reason" in errors_of(info)
    finance.red_reverse(application, staff, red_number="26360000000000000009", reason="客户退票")
    assert application.status == FapiaoStatus.REVERSED and application.red_number == "26360000000000000009"
    record = Instruction.objects.get(action="fapiao.red_reverse")
    assert record.params["red_number"] == "26360000000000000009"
    assert Notice.objects.filter(recipient=customer, event="finance.fapiao_reversed").exists()
    with pytest.raises(finance.FinanceRefused):
        finance.red_reverse(application, staff, red_number="26360000000000000010", reason="again")
