"""The platform side of test_fault_postgres_restart.py, run as its own process on the private cluster
(`python -m wuji.core.tests.pg_restart_load <command> <dir>`; DATABASE_URL names the cluster):

- `setup`: the catalogue, customers with a paid sandbox top-up each, and pending sandbox top-ups whose
  payment notices the test posts to gunicorn; writes setup.json.
- `withdraw <seconds>`: once the file `go` exists, one thread per customer requests withdrawals (service
  calls, the portal's path) for that long. A call the database refused is retried with the same idempotency
  key, as a client retries an unanswered request, until answered; writes withdraw.json (per key: answered
  or not, failures seen).
- `check`: runs the refunds retry job (as the scheduler would), then prints what the database holds for
  every operation of the load, and whether the ledger and the instruction chain verify.
"""

import json
import sys
import threading
import time
from pathlib import Path

import django

GONE_GRACE_SECONDS = 90  # how long a client keeps retrying one call while the database is away
WITHDRAWAL_FEN = 10_00


def setup(work: Path) -> None:
    from wuji.core import clock, testing
    from wuji.payments import services as payments
    from wuji.payments.models import TopUp

    testing.load_test_catalogue()
    customers, pending = [], []
    for i in range(4):
        customer = testing.make_customer(f"pg-restart-{i}@example.com")
        paid = TopUp.objects.create(customer=customer, channel="sandbox", amount_fen=1000_00, created_at=clock.now(),
                                    out_trade_no=f"TPGR{i:02d}PAID")
        payments.confirm_topup(out_trade_no=paid.out_trade_no, channel_trade_no=f"SBXPAID{i}", amount_fen=1000_00,
                               channel="sandbox")
        customers.append(customer.pk)
        for n in range(12):
            topup = TopUp.objects.create(customer=customer, channel="sandbox", amount_fen=1_00 + n,
                                         created_at=clock.now(), out_trade_no=f"TPGR{i:02d}{n:04d}")
            pending.append({"customer": customer.pk, "out_trade_no": topup.out_trade_no, "amount_fen": topup.amount_fen,
                            "trade_no": f"SBXLOAD{i:02d}{n:04d}"})
    (work / "setup.json").write_text(json.dumps({"customers": customers, "pending": pending}))


def withdraw(work: Path, seconds: float) -> None:
    from django.db import InterfaceError, OperationalError, close_old_connections, connection

    from wuji.accounts.models import User
    from wuji.payments import withdrawals

    customers = json.loads((work / "setup.json").read_text())["customers"]
    results: dict[str, dict] = {}
    while not (work / "go").exists():  # started with the web servers; the load begins when they are up
        time.sleep(0.05)
    stop_at = time.monotonic() + seconds

    def client(customer_id: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            key, failures, answered, n = f"{customer_id}-{n}", [], None, n + 1
            give_up = time.monotonic() + GONE_GRACE_SECONDS
            while answered is None and time.monotonic() < give_up:
                try:
                    customer = User.objects.get(pk=customer_id)
                    answered = withdrawals.request_withdrawal(
                        customer=customer, amount_fen=WITHDRAWAL_FEN, idempotency_key=key, factor="totp",
                        channel="web", ip="127.0.0.1").pk
                except (OperationalError, InterfaceError) as exc:
                    failures.append(type(exc).__name__)
                    close_old_connections()
                    if connection.connection is not None and not connection.is_usable():
                        connection.close()
                    time.sleep(0.3)
            results[key] = {"customer": customer_id, "answered": answered, "failures": failures}
        connection.close()

    threads = [threading.Thread(target=client, args=(pk,)) for pk in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (work / "withdraw.json").write_text(json.dumps(results))


def check(work: Path) -> None:
    from django_tasks_db.models import DBTaskResult

    from wuji.audit import services as audit
    from wuji.audit.models import Instruction
    from wuji.ledger import services as ledger
    from wuji.ledger.models import Transaction
    from wuji.payments import withdrawals
    from wuji.payments.models import Refund, TopUp, Withdrawal

    tasks_by_status: dict[str, int] = {}
    for row in DBTaskResult.objects.values_list("status", flat=True):
        tasks_by_status[row] = tasks_by_status.get(row, 0) + 1
    failed_tasks = sorted(DBTaskResult.objects.filter(status="FAILED").values_list("task_path", "exception_class_path"))
    retried = withdrawals.retry_pending_refunds()  # the periodic job: legs whose pay-out task died in the outage
    setup_data = json.loads((work / "setup.json").read_text())
    facts = {"tasks": tasks_by_status, "failed_tasks": failed_tasks, "retried_legs": retried, "topups": {},
             "withdrawals": {}, "customers": {}}
    for item in setup_data["pending"]:
        topup = TopUp.objects.get(out_trade_no=item["out_trade_no"])
        facts["topups"][item["out_trade_no"]] = {
            "status": topup.status, "has_credit": topup.ledger_transaction_id is not None,
            "credits": Transaction.objects.filter(idempotency_key=f"topup:sandbox:{item['trade_no']}").count()}
    for row in Withdrawal.objects.all():
        request = Instruction.objects.filter(action="withdrawal.request", target_type="withdrawal",
                                             target_id=str(row.pk), refers_to__isnull=True)
        facts["withdrawals"][row.idempotency_key] = {
            "id": row.pk, "status": row.status, "hold": row.hold_transaction_id is not None,
            "legs": list(Refund.objects.filter(withdrawal=row).values_list("status", flat=True)),
            "paid": Transaction.objects.filter(idempotency_key__in=[
                f"refund-paid:{no}" for no in Refund.objects.filter(withdrawal=row).values_list("refund_no", flat=True)
            ]).count(),
            "instructions": request.count(),
            "outcomes": [o.result for i in request for o in i.outcomes.all()],
        }
    for pk in setup_data["customers"]:
        from wuji.accounts.models import User

        facts["customers"][str(pk)] = ledger.balances(User.objects.get(pk=pk))
    facts["ledger_verify"] = ledger.verify()
    facts["audit_verify"] = audit.verify()
    print(json.dumps(facts))


if __name__ == "__main__":
    django.setup()
    command, work = sys.argv[1], Path(sys.argv[2])
    if command == "setup":
        setup(work)
    elif command == "withdraw":
        withdraw(work, float(sys.argv[3]))
    elif command == "check":
        check(work)
    else:
        raise SystemExit(f"unknown command {command}")
