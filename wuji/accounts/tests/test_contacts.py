"""Contacts must stay valid (clause 4.5.1 ¶ contacts): flags by staff and by undeliverable notices, the
deadline job, the purchase refusal (portal and API), fixing by change, re-verification or a new QQ number,
the console, the banner and owner boundaries."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from wuji.accounts import contacts, notices, tasks
from wuji.accounts import services as accounts
from wuji.accounts.contact_models import ContactFlag
from wuji.accounts.sms.log import LogSmsBackend
from wuji.api.tests.conftest import buy as api_buy
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.core import clock, testing
from wuji.notifications import services as notifications
from wuji.notifications.models import Delivery
from wuji.portal.tests.conftest import order_data

from .helpers import customer_with_phone, last_mail_code, last_sms_code

PROFILE = "/security/profile/"


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def staff(db):
    return accounts.create_staff(email="ops@example.com", password=testing.PASSWORD)


@pytest.fixture
def mobile_user(catalogue):
    user = customer_with_phone("mia@example.com", "13800138000")
    testing.verify_identity(user)
    testing.fund(user, 100_00)
    clock.advance(dt.timedelta(minutes=2))  # past the 1-per-minute code limit of the registration code
    return user


def channels_of(notice) -> set[str]:
    return set(Delivery.objects.filter(notice=notice).values_list("channel", flat=True))


def buy(customer, catalogue, key="k1"):
    return billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                               image=catalogue["image"], cycle="monthly", name="", idempotency_key=key,
                               channel="web", ip=None)


# --- Flagging ------------------------------------------------------------------------------------------


def test_staff_flag_notifies_on_the_other_channels_and_records_the_instruction(mobile_user, staff):
    flag = contacts.flag_invalid_contact(mobile_user, "email", staff, "邮件被退回：邮箱不存在", 10, ip="198.51.100.4")
    assert (flag.contact, flag.value_masked, flag.flagged_by, flag.status) == ("email", "m***a@example.com", staff,
                                                                               "open")
    assert flag.deadline == flag.created_at + dt.timedelta(days=10)
    notice = mobile_user.notices.get(event="accounts.contact_invalid.email")
    assert channels_of(notice) == {"inbox", "sms"}  # never the invalid e-mail address
    assert PROFILE in notice.body and contacts.deadline_text(flag.deadline) in notice.body
    assert "邮件被退回" in notice.body and "4.5.1" in notice.body
    record = Instruction.objects.get(action="account.contact_flag")
    assert (record.actor, record.owner, record.channel, record.ip) == (staff, mobile_user, "staff", "198.51.100.4")
    assert record.params["value"] == "m***a@example.com" and "mia@example.com" not in str(record.params)

    mobile = contacts.flag_invalid_contact(mobile_user, "mobile", staff, "空号", 10)
    assert mobile.value_masked == "138****8000"
    assert channels_of(mobile_user.notices.get(event="accounts.contact_invalid.mobile")) == {"inbox", "email"}


def test_flag_refusals_change_nothing(customer, staff):
    with pytest.raises(ValidationError) as info:
        contacts.flag_invalid_contact(customer, "qq", staff, "", 0)  # no QQ on file, no reason, bad deadline
    assert set(info.value.message_dict) == {"contact", "reason", "deadline_days"}
    contacts.flag_invalid_contact(customer, "email", staff, "退信", 5)
    with pytest.raises(ValidationError) as info:
        contacts.flag_invalid_contact(customer, "email", staff, "再次标记", 5)
    assert "contact" in info.value.message_dict
    assert ContactFlag.objects.count() == 1 and Instruction.objects.filter(action="account.contact_flag").count() == 1


def test_failed_deliveries_flag_the_contact_after_n_in_a_row(mobile_user, settings, monkeypatch):
    settings.WUJI_CONTACT_UNDELIVERABLE_AFTER = 3
    settings.WUJI_NOTICE_MAX_ATTEMPTS = 1  # each notice fails for good on its first try (retries: test_smtp.py)

    def fail(self, phone, template, params):
        raise OSError("vendor: number does not exist")

    def send_notice():
        notifications.notify(mobile_user, notices.ACCOUNT_UNLOCKED.code, {"case": 1})
        testing.run_tasks()

    send_notice()  # delivered
    monkeypatch.setattr(LogSmsBackend, "send", fail)
    send_notice()
    send_notice()
    assert not contacts.is_flagged(mobile_user, "mobile")  # 2 failures after a success: not yet
    send_notice()
    flag = ContactFlag.objects.get(user=mobile_user)
    assert (flag.contact, flag.flagged_by, flag.value_masked) == ("mobile", None, "138****8000")
    assert "3" in flag.reason and "number does not exist" in flag.reason
    assert Instruction.objects.get(action="account.contact_flag").channel == "system"
    notice = mobile_user.notices.get(event="accounts.contact_invalid.mobile")
    assert channels_of(notice) == {"inbox", "email"}
    send_notice()
    assert ContactFlag.objects.filter(user=mobile_user).count() == 1  # one open flag per contact


# --- Fixing --------------------------------------------------------------------------------------------


def test_changing_the_flagged_mobile_resolves_the_flag(mobile_user, staff):
    flag = contacts.flag_invalid_contact(mobile_user, "mobile", staff, "空号", 7)
    accounts.start_contact_change(user=mobile_user, kind="phone", new_address="13900139000", ip=None)
    new_code, old_code = last_sms_code("+8613900139000"), last_sms_code("+8613800138000")
    accounts.change_contact(user=mobile_user, kind="phone", new_address="13900139000", new_code=new_code,
                            old_code=old_code, ip=None)
    flag.refresh_from_db()
    assert flag.resolved_at and "139****9000" in flag.resolution and flag.status == "resolved"
    assert mobile_user.notices.filter(event="accounts.contact_resolved").count() == 1
    assert Instruction.objects.get(action="account.contact_flag_resolve").actor == mobile_user


def test_reverifying_the_same_number_in_the_portal_resolves_the_flag(client, mobile_user, staff):
    flag = contacts.flag_invalid_contact(mobile_user, "mobile", staff, "短信无法送达", 7)
    client.force_login(mobile_user)
    client.post(reverse("portal:step_up"), {"operation": "contact_change", "factor": "password",
                                            "secret": testing.PASSWORD, "verify": "1", "next": "/"})
    url = reverse("portal:contact_change", args=["phone"])
    page = client.get(url).content.decode()
    assert "重新验证" in page
    assert client.post(url, {"start": "1", "new_address": "13800138000"}).status_code == 302
    page = client.get(url).content.decode()
    assert 'name="new_code"' in page and 'name="old_code"' not in page
    response = client.post(url, {"confirm": "1", "new_address": "+8613800138000",
                                 "new_code": last_sms_code("+8613800138000")})
    assert response.status_code == 302 and response["Location"] == reverse("portal:profile")
    flag.refresh_from_db()
    assert flag.resolution == "已重新验证"
    assert Instruction.objects.filter(action="account.phone_reverify", owner=mobile_user).exists()


def test_the_same_address_is_still_refused_when_not_flagged(mobile_user):
    with pytest.raises(ValidationError) as info:
        accounts.start_contact_change(user=mobile_user, kind="phone", new_address="13800138000", ip=None)
    assert "new_address" in info.value.message_dict


def test_qq_validation_and_a_new_qq_resolves_its_flag(client, customer, staff):
    for bad in ("01234567", "1234", "123456789012", "12a456"):
        with pytest.raises(ValidationError) as info:
            accounts.update_profile(user=customer, ip=None, qq=bad)
        assert "qq" in info.value.message_dict
    client.force_login(customer)
    page = client.post(reverse("portal:profile"), {"nationality": "中国", "qq": "0123456"}).content.decode()
    assert "QQ 号码" in page and "5–11" in page
    accounts.update_profile(user=customer, ip=None, qq="12345")
    assert accounts.profile_of(customer).qq == "12345"

    flag = contacts.flag_invalid_contact(customer, "qq", staff, "QQ 号不存在", 7)
    assert flag.value_masked == "12*45"
    assert channels_of(customer.notices.get(event="accounts.contact_invalid.qq")) == {"inbox", "email"}
    accounts.update_profile(user=customer, ip=None, qq="12345", city="赣州")  # same number: still invalid
    assert contacts.is_flagged(customer, "qq")
    assert client.post(reverse("portal:profile"), {"nationality": "中国", "qq": "10001"}).status_code == 302
    flag.refresh_from_db()
    assert flag.resolved_at is not None


# --- The deadline, the restriction and its end -----------------------------------------------------------


def test_deadline_restricts_purchases_in_portal_and_api_and_a_fix_lifts_it(client, customer, catalogue, staff):
    flag = contacts.flag_invalid_contact(customer, "email", staff, "退信", 7)
    assert tasks.restrict_contact_overdue.call() == 0
    buy(customer, catalogue, key="before")  # not restricted before the deadline

    clock.advance(dt.timedelta(days=7, minutes=1))
    assert tasks.restrict_contact_overdue.call() == 1
    assert tasks.restrict_contact_overdue.call() == 0  # idempotent
    flag.refresh_from_db()
    assert flag.restricted_at and contacts.has_contact_restriction(customer)
    assert customer.notices.filter(event="accounts.contact_restricted.email").count() == 1
    assert Instruction.objects.filter(action="account.contact_restrict", owner=customer).count() == 1

    with pytest.raises(billing.PurchaseRefused) as info:
        buy(customer, catalogue, key="after")
    assert info.value.code == "contact_invalid" and PROFILE in str(info.value)

    client.force_login(customer)
    page = client.post(reverse("portal:buy_confirm"), order_data(catalogue)).content.decode()
    assert "账户已被限制使用" in page and PROFILE in page
    assert 'data-testid="contact-flag-banner"' in client.get(reverse("portal:dashboard")).content.decode()

    response = api_buy(client_for(customer), key="api-after")
    assert response.status_code == 409 and response.json()["code"] == "contact_invalid"
    assert PROFILE in response.json()["message"]
    assert billing.orders_of(customer).count() == 1

    mail.outbox.clear()
    clock.advance(dt.timedelta(minutes=2))
    accounts.start_contact_change(user=customer, kind="email", new_address="alice.new@example.com", ip=None)
    accounts.change_contact(user=customer, kind="email", new_address="alice.new@example.com",
                            new_code=last_mail_code("alice.new@example.com"),
                            old_code=last_mail_code("alice@example.com"), ip=None)
    assert not contacts.has_contact_restriction(customer)
    resolved = customer.notices.get(event="accounts.contact_resolved")
    assert "限制已同时解除" in resolved.body
    assert 'data-testid="contact-flag-banner"' not in client.get(reverse("portal:dashboard")).content.decode()
    assert api_buy(client_for(customer), key="api-fixed").status_code == 201


def test_staff_lift_a_restriction_in_the_console(client, customer, staff):
    flag = contacts.flag_invalid_contact(customer, "email", staff, "退信", 1)
    clock.advance(dt.timedelta(days=2))
    contacts.restrict_overdue()
    client.force_login(staff)
    url = reverse("admin:accounts_contactflag_changelist")
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "lift_selected", "_selected_action": [flag.pk], "apply": "1",
                                 "reason": "复核：邮箱可正常接收"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.resolved_by == staff and flag.resolution == "复核：邮箱可正常接收"
    assert not contacts.has_contact_restriction(customer)
    with pytest.raises(ValidationError):
        contacts.lift_contact_flag(flag, staff, "again")


def test_console_flag_action_on_users(client, customer, staff):
    client.force_login(staff)
    url = reverse("admin:accounts_user_changelist")
    page = client.post(url, {"action": "flag_invalid_contact", "_selected_action": [customer.pk]})
    assert page.status_code == 200 and "更正期限" in page.content.decode()
    response = client.post(url, {"action": "flag_invalid_contact", "_selected_action": [customer.pk], "apply": "1",
                                 "contact": "email", "reason": "退信", "days": "5"})
    assert response.status_code == 302
    flag = ContactFlag.objects.get(user=customer)
    assert (flag.contact, flag.flagged_by) == ("email", staff)


# --- Owner boundary ------------------------------------------------------------------------------------


def test_other_users_never_see_a_flag(client, customer, other_customer, staff):
    contacts.flag_invalid_contact(customer, "email", staff, "alice 的退信原因", 7)
    assert not contacts.contact_flags_of(other_customer).exists()
    assert not contacts.has_contact_restriction(other_customer)
    client.force_login(other_customer)
    for name in ("portal:dashboard", "portal:profile"):
        page = client.get(reverse(name)).content.decode()
        assert "contact-flag-banner" not in page and "alice 的退信原因" not in page and "a***e@" not in page
    # The console is staff-only: a customer is sent to the admin login, never shown the list.
    response = client.get(reverse("admin:accounts_contactflag_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]

    client.force_login(customer)
    page = client.get(reverse("portal:profile")).content.decode()
    assert "contact-flag-banner" in page and "alice 的退信原因" in page
