"""Test helpers. Tests set up state through the same services the product uses."""

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from wuji.catalog.models import Image, Plan, Region
from wuji.compute.drivers import get_driver
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind

FAKE_NODE_URI = "fake://test-node"
PASSWORD = "Correct-Horse-42"


def load_test_catalogue() -> dict:
    """The demo catalogue on the in-memory fake hypervisor, with the demo images registered on it."""
    from wuji.core import demo

    result = demo.load_catalogue(node_uri=FAKE_NODE_URI, storage_pool="default")
    driver = get_driver(FAKE_NODE_URI, virt_type="qemu", pool="default")
    for volume in demo.image_volumes():
        driver.add_image(volume)
    result.update(
        region=Region.objects.get(code="cn-ganzhou"),
        hk=Region.objects.get(code="hk"),
        plan=Plan.objects.get(code="s1"),
        image=Image.objects.get(code="debian-12"),
        other_image=Image.objects.get(code="tiny-linux"),
    )
    return result


def make_customer(email: str, *, balance_fen: int = 0, password: str = PASSWORD, ip: str = "127.0.0.1",
                  verified: bool = True):
    from wuji.accounts import services as accounts
    from wuji.agreements import services as agreements

    user = accounts.register_customer(email=email, password=password,
                                      accepted_version=agreements.current_version().version, ip=ip)
    if verified:
        verify_identity(user)
    if balance_fen:
        fund(user, balance_fen)
    return user


def verify_identity(user, *, name: str = "测试用户"):
    """Real-name verify a customer the real way: submit a valid, distinct test ID number; a staff reviewer approves."""
    from wuji.identity import testing as identity_testing

    return identity_testing.verify(user, name=name)


def fund(customer, amount_fen: int, *, key: str | None = None):
    """Credit cash as a confirmed top-up through a test clearing account."""
    from wuji.ledger.models import Transaction

    count = Transaction.objects.filter(customer=customer).count()
    return ledger.post(
        key=key or f"test-topup:{customer.pk}:{count}:{amount_fen}",
        kind=TransactionKind.TOPUP,
        legs=[(PlatformAccount.clearing("test"), -amount_fen),
              (ledger.customer_account_code(customer.pk, AccountKind.CASH), amount_fen)],
        customer=customer,
        cause=("test", customer.pk),
    )


def run_tasks(max_tasks: int | None = None) -> int:
    """Run every ready task on the database queue, as `wuji worker` does, then return how many ran.

    Same claim-and-run path as the worker, minus its connection recycling (which would close the
    connection a test case holds open inside its transaction).
    """
    worker = Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=max_tasks, worker_id="test-worker", excluded_queue_names=[])
    ran = 0
    while max_tasks is None or ran < max_tasks:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is None:
                break
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran
