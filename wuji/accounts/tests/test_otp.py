import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from wuji.accounts import otp
from wuji.accounts.otp_models import CodeDelivery, CodeState, OneTimeCode
from wuji.accounts.sms import log as sms_log
from wuji.core import testing

PHONE = "+8613800138000"
START = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_outbox():
    sms_log.outbox.clear()
    yield
    sms_log.outbox.clear()


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as machine:
        yield machine


def sent_code(address=PHONE) -> str:
    """Deliver queued codes and return the last one the address received."""
    testing.run_tasks()
    if "@" in address:
        return mail.outbox[-1].subject.rsplit("：", 1)[1]
    return [m for m in sms_log.outbox if m.phone == address][-1].params["code"]


def issue(purpose="login", address=PHONE, ip="203.0.113.5", channel="sms"):
    return otp.issue_code(purpose=purpose, channel=channel, address=address, ip=ip)


# --- lifecycle ------------------------------------------------------------------------------------------

def test_issue_verify_then_reuse_refused(traveller):
    issued = issue(address="138 0013 8000")
    assert issued.address == PHONE and issued.masked_address == "138****8000"
    assert issued.expires_at == START + dt.timedelta(minutes=5)
    code = sent_code()
    assert len(code) == 6 and code.isdigit()
    assert otp.verify_code(purpose="login", address="+86 138-0013-8000", code=code) is True
    with pytest.raises(otp.CodeNotFound):
        otp.verify_code(purpose="login", address=PHONE, code=code)
    assert OneTimeCode.objects.get().state == CodeState.USED


def test_expired_after_five_minutes(traveller):
    issue()
    code = sent_code()
    traveller.shift(dt.timedelta(minutes=4, seconds=59))
    issue(purpose="register")  # another purpose does not disturb this one (1/min limit passed)
    traveller.shift(dt.timedelta(seconds=1))
    with pytest.raises(otp.CodeExpired) as exc:
        otp.verify_code(purpose="login", address=PHONE, code=code)
    assert "过期" in exc.value.message


def test_just_before_expiry_still_valid(traveller):
    issue()
    code = sent_code()
    traveller.shift(dt.timedelta(minutes=4, seconds=59))
    assert otp.verify_code(purpose="login", address=PHONE, code=code)


def test_five_wrong_attempts_kill_the_code(traveller):
    issue()
    code = sent_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(otp.InvalidCode) as exc:
            otp.verify_code(purpose="login", address=PHONE, code=wrong)
        assert exc.value.attempts_left == left
        assert f"还可尝试 {left} 次" in exc.value.message
    with pytest.raises(otp.TooManyAttempts):
        otp.verify_code(purpose="login", address=PHONE, code=wrong)
    with pytest.raises(otp.TooManyAttempts):  # even the right code is refused now
        otp.verify_code(purpose="login", address=PHONE, code=code)
    row = OneTimeCode.objects.get()
    assert row.state == CodeState.EXHAUSTED and row.attempts == 5


def test_purpose_binding(traveller):
    issue(purpose="login")
    code = sent_code()
    with pytest.raises(otp.CodeNotFound):
        otp.verify_code(purpose="reset_password", address=PHONE, code=code)
    assert otp.verify_code(purpose="login", address=PHONE, code=code)


def test_address_binding(traveller):
    issue()
    code = sent_code()
    with pytest.raises(otp.CodeNotFound):
        otp.verify_code(purpose="login", address="13900139000", code=code)


def test_new_code_supersedes_the_previous(traveller):
    issue()
    first = sent_code()
    traveller.shift(dt.timedelta(seconds=61))
    issue()
    second = sent_code()
    states = list(OneTimeCode.objects.order_by("created_at").values_list("state", flat=True))
    assert states == [CodeState.SUPERSEDED, CodeState.ACTIVE]
    if first != second:
        with pytest.raises(otp.InvalidCode):
            otp.verify_code(purpose="login", address=PHONE, code=first)
    assert otp.verify_code(purpose="login", address=PHONE, code=second)


def test_errors_are_code_errors():
    for cls in (otp.CodeNotFound, otp.CodeExpired, otp.TooManyAttempts, otp.InvalidCode):
        assert issubclass(cls, otp.CodeError) and issubclass(cls, otp.OtpError)
    assert issubclass(otp.RateLimited, otp.OtpError)


def test_bad_address_and_purpose_refused_and_nothing_written():
    with pytest.raises(ValidationError) as exc:
        issue(address="12345")
    assert "phone" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        issue(address="not-an-email", channel="email")
    assert "email" in exc.value.message_dict
    with pytest.raises(ValueError):
        issue(purpose="Bad Purpose")
    assert not OneTimeCode.objects.exists() and not DBTaskResult.objects.exists()


# --- storage --------------------------------------------------------------------------------------------

def test_code_never_stored_in_plain_text(traveller):
    issue()
    row = OneTimeCode.objects.get()
    code = sent_code()
    row.refresh_from_db()
    assert row.code_ciphertext == ""  # the encrypted copy is gone once handed to the channel
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {OneTimeCode._meta.db_table}")
        values = [str(v) for v in cursor.fetchone()]
        cursor.execute(f"SELECT * FROM {DBTaskResult._meta.db_table}")
        task_values = [str(v) for r in cursor.fetchall() for v in r]
    assert not any(code in value for value in values if value not in (PHONE,)), values
    assert not any(code in value for value in task_values)
    assert row.code_hash != code and len(row.code_hash) == 64


# --- delivery -------------------------------------------------------------------------------------------

def test_sms_sent_only_by_the_task_after_commit(traveller):
    issue()
    assert sms_log.outbox == []  # nothing sent inside the request's transaction
    testing.run_tasks()
    assert len(sms_log.outbox) == 1
    message = sms_log.outbox[0]
    assert message.phone == PHONE and message.template_code == "SMS_CODE"
    row = OneTimeCode.objects.get()
    assert row.delivery_status == CodeDelivery.SENT and row.provider_message_id == message.message_id
    assert row.sent_at == START and row.delivery_log[0]["result"] == "sent"


def test_rolled_back_issue_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        issue()
        raise RuntimeError("the business write failed")
    assert testing.run_tasks() == 0 and sms_log.outbox == []


def test_email_code(traveller):
    issued = issue(channel="email", address=" Alice@Example.COM ", purpose="verify_contact")
    assert issued.address == "alice@example.com" and issued.masked_address == "a***e@example.com"
    code = sent_code("alice@example.com")
    assert mail.outbox[-1].to == ["alice@example.com"] and code in mail.outbox[-1].body
    assert "验证联系方式" in mail.outbox[-1].body
    assert otp.verify_code(purpose="verify_contact", address="ALICE@example.com", code=code)


def test_failed_delivery_logged_on_the_row(traveller, settings):
    settings.WUJI_SMS_BACKEND = "wuji.accounts.sms.aliyun.AliyunSmsBackend"  # no credentials configured
    settings.WUJI_SMS_ALIYUN = {"ACCESS_KEY_ID": "", "ACCESS_KEY_SECRET": "", "ENDPOINT": "https://127.0.0.1:9/"}
    issue()
    testing.run_tasks()
    row = OneTimeCode.objects.get()
    assert row.delivery_status == CodeDelivery.FAILED and "not_configured" in row.delivery_error
    assert row.code_ciphertext == "" and row.delivery_log[0]["result"] == "failed"


def test_superseded_code_is_not_sent(traveller):
    issue(purpose="login")
    traveller.shift(dt.timedelta(seconds=61))
    issue(purpose="login")
    testing.run_tasks()
    assert len(sms_log.outbox) == 1
    assert OneTimeCode.objects.get(state=CodeState.SUPERSEDED).delivery_status == CodeDelivery.PENDING


# --- rate limits ----------------------------------------------------------------------------------------

def test_one_per_minute_per_number(traveller):
    issue()
    traveller.shift(dt.timedelta(seconds=30))
    with pytest.raises(otp.RateLimited) as exc:
        issue(purpose="register")  # across purposes
    assert exc.value.retry_after_seconds == 30
    assert "30 秒" in exc.value.message
    traveller.shift(dt.timedelta(seconds=30))
    issue(purpose="register")


def test_five_per_hour_per_number(traveller):
    for _ in range(5):
        issue()
        traveller.shift(dt.timedelta(minutes=2))
    with pytest.raises(otp.RateLimited) as exc:
        issue()
    # the first send (at START) leaves the hour window at START + 1h; we are at START + 10 min
    assert exc.value.retry_after_seconds == 50 * 60
    assert "50 分钟" in exc.value.message
    traveller.move_to(START + dt.timedelta(hours=1, seconds=1))
    issue()


def test_ten_per_day_per_number(traveller):
    for _ in range(10):
        issue()
        traveller.shift(dt.timedelta(minutes=13))  # 10 × 13 min: never 5 within an hour
    with pytest.raises(otp.RateLimited) as exc:
        issue()
    assert exc.value.retry_after_seconds == (START + dt.timedelta(days=1) - otp.clock.now()).total_seconds()
    traveller.move_to(START + dt.timedelta(days=1, seconds=1))
    issue()


def test_limits_are_per_number(traveller):
    issue(address="13800138000")
    issue(address="13900139000")


def test_per_ip_limit(traveller, settings):
    settings.WUJI_OTP_IP_LIMITS = [(20, 3600)]
    for i in range(20):
        issue(address=f"1380013{i:04d}", ip="198.51.100.7")
    with pytest.raises(otp.RateLimited):
        issue(address="13900139000", ip="198.51.100.7")
    issue(address="13900139000", ip="198.51.100.8")  # another IP is unaffected
    traveller.shift(dt.timedelta(hours=1))
    issue(address="13700137000", ip="198.51.100.7")


def test_refused_request_writes_nothing(traveller):
    issue()
    with pytest.raises(otp.RateLimited):
        issue()
    assert OneTimeCode.objects.count() == 1 and DBTaskResult.objects.count() == 1
