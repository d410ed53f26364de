"""Retention purge for cancelled (注销) accounts (PIPL art. 19, 47): each category at its period, nothing kept by
law is touched, running twice deletes nothing more."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from wuji.accounts import services as accounts
from wuji.agreements import retention, tasks
from wuji.agreements.models import Acceptance
from wuji.audit.models import Instruction
from wuji.core import clock, testing
from wuji.identity import services as identity
from wuji.identity import testing as identity_testing
from wuji.identity.models import Verification
from wuji.notifications.models import Delivery, Notice

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def cancelled(catalogue):
    """A customer verified with an ID photo, who then cancelled the account."""
    user = testing.make_customer("gone@example.com", verified=False)
    submitted = identity.submit_individual(user, name="张三", id_number=identity_testing.fake_id_number(901),
                                           document=SimpleUploadedFile("id.png", PNG, content_type="image/png"))
    identity.approve(submitted, identity_testing.reviewer(), reason="ok")
    accounts.cancel_account(user, factor="password", channel="web", ip="203.0.113.5")
    return user


def purge_at(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return retention.purge_cancelled_accounts()


def test_each_category_is_purged_at_its_own_period_and_legal_records_stay(
        cancelled, customer, django_capture_on_commit_callbacks):
    cancelled_at = Instruction.objects.get(action="account.cancel", owner=cancelled).created_at
    verification = Verification.objects.get(user=cancelled)
    document = verification.document
    assert document.storage.exists(document.name)
    notices = Notice.objects.filter(recipient=cancelled).count()
    assert notices and Notice.objects.filter(recipient=customer).exists()

    assert purge_at(cancelled_at + dt.timedelta(days=179), django_capture_on_commit_callbacks) == {
        "notices": 0, "wechat_binding": 0, "identity_documents": 0}
    assert document.storage.exists(document.name)

    assert purge_at(cancelled_at + dt.timedelta(days=181), django_capture_on_commit_callbacks) == {
        "notices": 0, "wechat_binding": 0, "identity_documents": 1}
    assert not document.storage.exists(document.name)
    verification.refresh_from_db()
    assert verification.document.name == "" and verification.number_masked  # the registration record stays

    later = cancelled_at + dt.timedelta(days=3 * 365 + 1)
    totals = purge_at(later, django_capture_on_commit_callbacks)
    assert totals["notices"] >= notices and totals["identity_documents"] == 0
    assert not Notice.objects.filter(recipient=cancelled).exists()
    assert not Delivery.objects.filter(notice__recipient=cancelled).exists()
    assert Notice.objects.filter(recipient=customer).exists()  # active accounts are not touched
    assert Acceptance.objects.filter(user=cancelled).exists()
    assert Instruction.objects.filter(owner=cancelled, action="account.cancel").exists()
    purge = Instruction.objects.filter(owner=cancelled, action="account.retention_purge")
    assert {i.params["category"] for i in purge} == {"notices", "identity_documents"}

    assert purge_at(later, django_capture_on_commit_callbacks) == {"notices": 0, "wechat_binding": 0,
                                                                   "identity_documents": 0}


def test_the_wechat_binding_of_a_cancelled_account_goes_the_next_day(cancelled, customer,
                                                                      django_capture_on_commit_callbacks):
    from wuji.notifications.models import WechatBinding

    now = clock.now()
    WechatBinding.objects.create(user=cancelled, openid="o-cancelled", bound_at=now)
    WechatBinding.objects.create(user=customer, openid="o-active", bound_at=now)
    cancelled_at = Instruction.objects.get(action="account.cancel", owner=cancelled).created_at
    assert purge_at(cancelled_at + dt.timedelta(hours=23), django_capture_on_commit_callbacks)["wechat_binding"] == 0
    assert purge_at(cancelled_at + dt.timedelta(days=1, hours=1),
                    django_capture_on_commit_callbacks)["wechat_binding"] == 1
    assert list(WechatBinding.objects.values_list("openid", flat=True)) == ["o-active"]


def test_period_runs_from_the_last_cancellation(cancelled, django_capture_on_commit_callbacks):
    first = Instruction.objects.get(action="account.cancel", owner=cancelled).created_at
    with time_machine.travel(first + dt.timedelta(days=100), tick=False):
        # cancelled again later (e.g. after staff reactivated it): the period restarts
        from wuji.audit import services as audit

        audit.record(actor=cancelled, owner=cancelled, channel="web", action="account.cancel", target=cancelled)
    assert purge_at(first + dt.timedelta(days=181), django_capture_on_commit_callbacks)["identity_documents"] == 0
    assert purge_at(first + dt.timedelta(days=281), django_capture_on_commit_callbacks)["identity_documents"] == 1


def test_the_daily_job_is_registered_and_purges(cancelled, django_capture_on_commit_callbacks):
    from wuji.core.scheduler import registered_jobs

    assert "agreements.purge_cancelled_accounts" in {job.name for job in registered_jobs()}
    testing.run_tasks()  # the cancellation notice's e-mail
    cancelled_at = Instruction.objects.get(action="account.cancel", owner=cancelled).created_at
    with time_machine.travel(cancelled_at + dt.timedelta(days=181), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        tasks.purge_cancelled_accounts.enqueue()
        assert testing.run_tasks() == 1
    assert Verification.objects.get(user=cancelled).document.name == ""


def test_table_keeps_everything_with_a_legal_period():
    kept = {c.code for c in retention.RETENTION if c.purge is None}
    assert {"ledger", "instructions", "finance", "ip_history", "acceptances", "login_records"} <= kept
