"""`wuji simulate`: the platform clock runs forward through the real services, and the report says what the
ledger and the instruction log recorded."""

import io

import pytest
from django.core.management import CommandError, call_command

from wuji.billing.models import Order
from wuji.core import clock, simulation
from wuji.ledger.models import Transaction


class Out(io.StringIO):
    def write(self, text):  # a BaseCommand.stdout-like writer: one line per call
        super().write(text + "\n")


@pytest.fixture
def rewind():
    yield
    clock.reset()


def test_a_short_simulation_reports_what_the_ledger_recorded(db, rewind):
    out = Out()
    assert simulation.run(3, simulation.Population(customers=3, seed=7), out) is True
    report = out.getvalue()
    orders = Order.objects.count()
    assert orders == 3  # each customer bought one prepaid server through place_order
    topups = Transaction.objects.filter(kind="topup").count()
    total_line = next(line for line in report.splitlines() if line.startswith("total"))
    assert total_line.split()[1] == str(topups)
    assert "ledger verify: OK" in report and "audit verify:  OK" in report
    assert clock.now() - Transaction.objects.order_by("id").first().created_at >= simulation.HOUR * 72


def test_here_refuses_a_database_with_customers(db, customer):
    with pytest.raises(CommandError, match="without customers"):
        call_command("simulate", "--here", "--days=1")


@pytest.mark.parametrize("args", [["--days=0"], ["--customers=0"]])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError):
        call_command("simulate", *args)
