"""Submitting, reviewing, refusals, the purchase gate, false-information flags, encryption and keys."""

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.billing.models import Order
from wuji.core import clock, testing
from wuji.identity import services as identity
from wuji.identity import tasks
from wuji.identity.choices import FlagStatus, VerificationStatus
from wuji.identity.models import Verification
from wuji.identity.testing import fake_id_number
from wuji.ledger import services as ledger

from .conftest import PNG

ID = "110101199003071233"
CODE = "91110108MA01ABCD5T"


def licence():
    return SimpleUploadedFile("licence.png", PNG, content_type="image/png")


def submit(user, number=ID, name="张三"):
    return identity.submit_individual(user, name=name, id_number=number, ip="203.0.113.9")


def errors_of(info) -> dict:
    return info.value.message_dict


def buy(customer, catalogue, region=None, key="k1"):
    return billing.place_order(customer=customer, region=region or catalogue["region"], plan=catalogue["plan"],
                               image=catalogue["image"], cycle="monthly", name="", idempotency_key=key,
                               channel="web", ip=None)


def test_submit_then_approve_sets_name_notifies_and_records(applicant, reviewer):
    v = submit(applicant)
    assert (v.status, v.kind, v.number_masked) == (VerificationStatus.PENDING, "individual", "1101**********1233")
    assert not identity.is_verified(applicant)  # a valid checksum is not a verification
    identity.approve(v, reviewer, reason="证件核验一致")
    assert v.status == VerificationStatus.APPROVED and v.reviewed_by == reviewer and v.reviewed_at
    assert identity.is_verified(applicant)
    applicant.refresh_from_db()
    assert applicant.first_name == "张三"
    assert list(applicant.notices.values_list("event", flat=True).order_by("id")) == [
        "identity.submitted", "identity.approved"]
    submitted, approved = Instruction.objects.filter(action__startswith="identity.").order_by("seq")
    assert (submitted.action, submitted.actor, submitted.channel, submitted.ip) == (
        "identity.submit", applicant, "web", "203.0.113.9")
    assert submitted.params["number"] == "1101**********1233" and ID not in str(submitted.params)
    assert (approved.action, approved.actor, approved.owner) == ("identity.approve", reviewer, applicant)


def test_reject_needs_a_reason_and_tells_the_user(applicant, reviewer):
    v = submit(applicant)
    with pytest.raises(ValidationError) as info:
        identity.reject(v, reviewer, "  ")
    assert "reason" in errors_of(info)
    identity.reject(v, reviewer, "照片模糊")
    assert v.status == VerificationStatus.REJECTED and v.reason == "照片模糊"
    notice = applicant.notices.get(event="identity.rejected")
    assert "照片模糊" in notice.body
    assert identity.status_of(applicant).status == "rejected"
    assert Instruction.objects.filter(action="identity.reject", owner=applicant).count() == 1


def test_only_pending_applications_are_reviewed(applicant, reviewer):
    v = identity.approve(submit(applicant), reviewer)
    with pytest.raises(identity.ReviewRefused):
        identity.reject(v, reviewer, "再驳回")


@pytest.mark.parametrize(("number", "message"), [
    ("110101199003071234", "校验位"),
    ("110105194902310026", "出生日期"),
    ("110105491231002", "15 位"),
])
def test_bad_numbers_are_refused_and_nothing_is_written(applicant, number, message):
    with pytest.raises(ValidationError) as info:
        submit(applicant, number)
    assert message in errors_of(info)["id_number"][0]
    assert not Verification.objects.exists() and not applicant.notices.exists()


def test_name_and_number_errors_come_together(applicant):
    with pytest.raises(ValidationError) as info:
        identity.submit_individual(applicant, name="", id_number="123")
    assert set(errors_of(info)) == {"name", "id_number"}


def test_one_identity_backs_at_most_n_accounts(catalogue, reviewer, settings):
    settings.WUJI_MAX_ACCOUNTS_PER_IDENTITY = 2
    users = [testing.make_customer(f"u{i}@example.com", verified=False) for i in range(3)]
    for user in users[:2]:
        identity.approve(submit(user), reviewer)
    with pytest.raises(ValidationError) as info:
        submit(users[2])
    assert "上限" in errors_of(info)["id_number"][0]
    # The limit holds at approval too (applications submitted before others were approved).
    settings.WUJI_MAX_ACCOUNTS_PER_IDENTITY = 3
    pending = submit(users[2])
    settings.WUJI_MAX_ACCOUNTS_PER_IDENTITY = 2
    with pytest.raises(identity.ReviewRefused):
        identity.approve(pending, reviewer)


def test_individual_may_upgrade_to_enterprise_but_not_back(applicant, reviewer):
    identity.approve(submit(applicant), reviewer)
    enterprise = identity.submit_enterprise(applicant, company_name="赣州示例科技有限公司", credit_code=CODE,
                                            legal_representative="张三", document=licence())
    identity.approve(enterprise, reviewer)
    state = identity.status_of(applicant)
    assert state.approved.kind == "enterprise" and state.approved.number_masked == "9111**********CD5T"
    assert Verification.objects.get(kind="individual").status == VerificationStatus.SUPERSEDED
    applicant.refresh_from_db()
    assert applicant.first_name == "赣州示例科技有限公司"
    with pytest.raises(ValidationError) as info:
        submit(applicant, fake_id_number(7))
    assert "企业认证" in errors_of(info)["__all__"][0]


def test_enterprise_needs_a_licence_file_of_a_known_type(applicant):
    with pytest.raises(ValidationError) as info:
        identity.submit_enterprise(applicant, company_name="示例公司", credit_code=CODE, legal_representative="张三")
    assert "document" in errors_of(info)
    with pytest.raises(ValidationError) as info:
        identity.submit_enterprise(applicant, company_name="示例公司", credit_code=CODE, legal_representative="张三",
                                   document=SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="image/png"))
    assert "document" in errors_of(info)


def test_resubmitting_replaces_the_pending_application(applicant):
    first = submit(applicant)
    second = submit(applicant, fake_id_number(42), name="张三丰")
    first.refresh_from_db()
    assert first.status == VerificationStatus.SUPERSEDED and second.status == VerificationStatus.PENDING


# --- The purchase gate ----------------------------------------------------------------------------------


def test_unverified_purchase_in_the_mainland_is_refused_with_the_link(applicant, catalogue):
    with pytest.raises(billing.PurchaseRefused) as info:
        buy(applicant, catalogue)
    assert "实名认证" in str(info.value) and "/identity/" in str(info.value)
    assert info.value.link == "/identity/" and info.value.code == "real_name_required"
    assert not Order.objects.filter(customer=applicant).exists()
    assert ledger.balances(applicant)["cash"] == 100_00


def test_outside_the_mainland_is_not_gated_by_default_but_can_be(applicant, catalogue, settings):
    settings.WUJI_REAL_NAME_REQUIRED_REGIONS = "all"
    with pytest.raises(billing.PurchaseRefused):
        buy(applicant, catalogue, catalogue["hk"])
    settings.WUJI_REAL_NAME_REQUIRED_REGIONS = "mainland"
    identity.require_verified_for_region(applicant, catalogue["hk"])  # no refusal
    settings.WUJI_REAL_NAME_REQUIRED_REGIONS = "none"
    identity.require_verified_for_region(applicant, catalogue["region"])


def test_verified_customer_buys_in_the_mainland(customer, catalogue):
    order, password = buy(customer, catalogue)
    assert order.amount_fen == 2900 and password


# --- False information (2.1.3) ---------------------------------------------------------------------------


def test_uncorrected_false_information_restricts_the_account_at_the_deadline(customer, catalogue, reviewer):
    deadline = clock.now() + dt.timedelta(days=7)
    flag = identity.flag_false_information(customer, reviewer, "身份证与姓名不符", deadline)
    notice = customer.notices.get(event="identity.correction_required")
    assert "身份证与姓名不符" in notice.body and "2.1.3" in notice.body
    assert identity.restrict_overdue() == 0 and not identity.is_restricted(customer)

    with time_travel(dt.timedelta(days=8)):
        assert tasks.restrict_overdue.call() == 1
        assert tasks.restrict_overdue.call() == 0  # idempotent
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESTRICTED and identity.is_restricted(customer)
    assert customer.notices.filter(event="identity.restricted").count() == 1
    with pytest.raises(billing.PurchaseRefused) as info:
        buy(customer, catalogue, catalogue["hk"])  # restricted everywhere, not only in the mainland
    assert info.value.code == "account_restricted" and "/identity/" in str(info.value)

    # A correction approved by staff lifts it.
    identity.approve(submit(customer, fake_id_number(900), name="李四"), reviewer)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.CORRECTED and not identity.is_restricted(customer)
    assert Instruction.objects.filter(owner=customer, action__in=[
        "identity.flag_false_information", "identity.restrict", "identity.flag_corrected"]).count() == 3


def test_a_pending_correction_holds_off_the_restriction(customer, reviewer):
    identity.flag_false_information(customer, reviewer, "信息不实", clock.now() + dt.timedelta(days=1))
    submit(customer, fake_id_number(901))
    with time_travel(dt.timedelta(days=2)):
        assert identity.restrict_overdue() == 0


def test_flag_needs_reason_and_future_deadline(customer, reviewer):
    with pytest.raises(ValidationError) as info:
        identity.flag_false_information(customer, reviewer, "", clock.now() - dt.timedelta(days=1))
    assert set(errors_of(info)) == {"reason", "deadline"}


def test_staff_can_lift_a_restriction(customer, reviewer):
    flag = identity.flag_false_information(customer, reviewer, "信息不实", clock.now() + dt.timedelta(hours=1))
    with time_travel(dt.timedelta(hours=2)):
        identity.restrict_overdue()
    identity.lift_restriction(flag, reviewer, "复核后确认信息真实")
    assert not identity.is_restricted(customer)
    assert customer.notices.filter(event="identity.restriction_lifted").exists()


# --- Personal data at rest ---------------------------------------------------------------------------------


def test_the_database_never_holds_the_plain_number(applicant):
    v = submit(applicant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM identity_verification")
        row = " ".join(str(col) for col in cursor.fetchone())
        cursor.execute("SELECT params FROM audit_instruction")
        params = " ".join(str(r[0]) for r in cursor.fetchall())
    assert ID not in row and ID not in params
    assert identity.number_of(v) == ID
    assert Verification.objects.filter(number_hash=identity.number_hash(ID)).get() == v


def test_documents_are_stored_encrypted_outside_static(applicant, settings):
    v = identity.submit_individual(applicant, name="张三", id_number=ID,
                                   document=SimpleUploadedFile("id.png", PNG, content_type="image/png"))
    path = v.document.path
    assert str(settings.WUJI_PRIVATE_FILES_DIR) in path and "static" not in path
    with open(path, "rb") as stored:
        assert PNG not in stored.read()
    assert identity.document_of(v) == (PNG, "image/png")


def test_key_rotation_old_rows_still_decrypt_and_reencrypt_moves_them(applicant, settings):
    old_key = settings.WUJI_ENCRYPTION_KEYS[0]
    v = identity.submit_individual(applicant, name="张三", id_number=ID,
                                   document=SimpleUploadedFile("id.png", PNG, content_type="image/png"))
    new_key = Fernet.generate_key().decode()
    settings.WUJI_ENCRYPTION_KEYS = [new_key, old_key]
    assert identity.number_of(Verification.objects.get(pk=v.pk)) == ID  # decrypts with the old key
    assert identity.reencrypt_all() == 1
    settings.WUJI_ENCRYPTION_KEYS = [new_key]  # the old key retired
    v = Verification.objects.get(pk=v.pk)
    assert identity.number_of(v) == ID and identity.document_of(v)[0] == PNG


class time_travel:
    """Move the platform clock forward for a block."""

    def __init__(self, delta):
        self.delta = delta

    def __enter__(self):
        clock.advance(self.delta)

    def __exit__(self, *exc):
        clock.reset()


def test_accounts_are_distinct_test_identities(catalogue):
    a = testing.make_customer("x1@example.com")
    b = testing.make_customer("x2@example.com")
    numbers = {identity.number_of(identity.status_of(u).approved) for u in (a, b)}
    assert len(numbers) == 2 and get_user_model().objects.get(pk=a.pk).first_name == "测试用户"
