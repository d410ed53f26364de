"""Revision notices (clause 11): every active customer is told once, in batches, however often the task runs."""

from django.contrib.auth import get_user_model

from wuji.agreements import tasks
from wuji.agreements.models import RevisionNotice
from wuji.core import testing
from wuji.notifications.models import Notice

from .conftest import publish_revision


def customers(n: int) -> list:
    return [testing.make_customer(f"c{i}@example.com", verified=False) for i in range(n)]


def test_every_active_customer_is_told_once_in_batches(catalogue, frozen, settings):
    settings.WUJI_AGREEMENT_NOTICE_BATCH = 2
    users = customers(5)
    staff = get_user_model().objects.create_user(email="ops@example.com", password=None, is_staff=True)
    inactive = testing.make_customer("gone@example.com", verified=False)
    get_user_model().objects.filter(pk=inactive.pk).update(is_active=False)
    revised = publish_revision()
    ran = testing.run_tasks()
    assert ran >= 3  # 5 users in batches of 2: the task enqueued its own next batches
    notices = Notice.objects.filter(event="agreement.revised")
    assert sorted(n.recipient_id for n in notices) == sorted(u.pk for u in users)
    assert not notices.filter(recipient__in=[staff, inactive]).exists()
    notice = notices.get(recipient=users[0])
    assert notice.mandatory and "2026-03-09 10:00" in notice.body and revised.version in notice.body
    assert "/agreement/" in notice.body


def test_running_the_task_again_tells_nobody_twice(catalogue, frozen, settings):
    settings.WUJI_AGREEMENT_NOTICE_BATCH = 2
    users = customers(3)
    revised = publish_revision()
    testing.run_tasks()
    tasks.notify_revision.enqueue(version_id=revised.pk)  # a retry of the whole run
    tasks.notify_revision.enqueue(version_id=revised.pk, after_user_id=users[0].pk)  # and of a middle batch
    testing.run_tasks()
    assert Notice.objects.filter(event="agreement.revised").count() == 3
    assert RevisionNotice.objects.filter(version=revised).count() == 3


def test_batch_stops_after_its_size_and_reports_where_it_stopped(catalogue, frozen):
    users = customers(3)
    revised = publish_revision()
    last = tasks.notify_batch(revised, after_user_id=0, size=2)
    assert last == users[1].pk
    assert set(RevisionNotice.objects.values_list("user_id", flat=True)) == {users[0].pk, users[1].pk}
    assert tasks.notify_batch(revised, after_user_id=last, size=2) is None


def test_publication_enqueues_the_notices_in_its_transaction(catalogue, frozen):
    customers(1)
    publish_revision()
    assert Notice.objects.filter(event="agreement.revised").count() == 0  # not in the request
    testing.run_tasks()
    assert Notice.objects.filter(event="agreement.revised").count() == 1
