import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Account, ImmutableError, Posting, Transaction


@pytest.fixture
def alice(catalogue):
    return testing.make_customer("alice@example.com")


def cash(user):
    return ledger.customer_account_code(user.pk, "cash")


def topup(user, amount, key):
    return ledger.post(key=key, kind="topup", legs=[("clearing:test", -amount), (cash(user), amount)], customer=user)


def test_balanced_transaction_updates_balance_and_records_running_balance(alice):
    topup(alice, 500, "t1")
    txn = topup(alice, 300, "t2")
    assert ledger.balances(alice)["cash"] == 800
    assert txn.postings.get(account__code=cash(alice)).balance_after == 800
    assert ledger.platform_balance("clearing:test") == -800
    assert ledger.verify() == []


@pytest.mark.parametrize(
    "legs, message",
    [
        ([("clearing:test", -100), ("revenue:cash", 99)], "sum to zero"),
        ([("clearing:test", -100)], "at least two"),
        ([("clearing:test", -100), ("clearing:test", 100)], "once"),
        ([("clearing:test", -1.5), ("revenue:cash", 1.5)], "integers"),
    ],
)
def test_malformed_transactions_are_refused(alice, legs, message):
    with pytest.raises(ledger.UnbalancedTransaction, match=message):
        ledger.post(key="bad", kind="topup", legs=legs, customer=alice)
    assert not Transaction.objects.filter(idempotency_key="bad").exists()


def test_customer_balance_cannot_go_negative(alice):
    topup(alice, 100, "t1")
    with pytest.raises(ledger.InsufficientFunds) as info:
        ledger.post(key="spend", kind="charge", legs=[(cash(alice), -101), ("revenue:cash", 101)], customer=alice)
    assert info.value.shortfall == 1
    assert ledger.balances(alice)["cash"] == 100
    assert not Transaction.objects.filter(idempotency_key="spend").exists()


def test_database_constraint_also_refuses_a_negative_customer_balance(alice):
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(code=cash(alice)).update(balance=-1)


def test_retry_with_same_key_is_a_no_op_returning_the_first_transaction(alice):
    first = topup(alice, 100, "same")
    again = topup(alice, 100, "same")
    assert again.pk == first.pk
    assert ledger.balances(alice)["cash"] == 100


def test_same_key_with_other_postings_is_a_conflict(alice):
    topup(alice, 100, "same")
    with pytest.raises(ledger.IdempotencyConflict):
        topup(alice, 200, "same")


def test_journal_is_append_only_in_python_and_in_the_database(alice):
    txn = topup(alice, 100, "t1")
    with pytest.raises(ImmutableError):
        txn.save()
    with pytest.raises(ImmutableError):
        txn.postings.first().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Posting.objects.filter(transaction=txn).update(amount=5)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transaction")


def test_reversal_restores_balances_and_references_original(alice):
    original = topup(alice, 100, "t1")
    correction = ledger.reverse(original)
    assert correction.reverses_id == original.pk
    assert ledger.balances(alice)["cash"] == 0
    assert ledger.reverse(original).pk == correction.pk  # reversing twice is the same correction
    assert ledger.verify() == []


@pytest.mark.corrupts_ledger
def test_verify_detects_a_stored_balance_that_disagrees_with_postings(alice):
    topup(alice, 100, "t1")
    Account.objects.filter(code=cash(alice)).update(balance=150)
    problems = ledger.verify()
    assert any("stored balance 150 != sum of postings 100" in p for p in problems)


@pytest.mark.corrupts_ledger
def test_verify_detects_a_missing_immutability_trigger(alice):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER ledger_posting_immutable_upd ON ledger_posting")
        else:
            cursor.execute("DROP TRIGGER ledger_posting_immutable_upd")
    assert "immutability trigger ledger_posting_immutable_upd is missing" in ledger.verify()


@pytest.mark.corrupts_ledger
def test_ledger_verify_command_exits_non_zero_on_violation(alice):
    from django.core.management import CommandError, call_command

    topup(alice, 100, "t1")
    call_command("ledger", "verify")
    Account.objects.filter(code=cash(alice)).update(balance=1)
    with pytest.raises(CommandError):
        call_command("ledger", "verify")


# --- property: random sequences of valid and invalid postings never break the invariants -----------------

operation = st.tuples(
    st.sampled_from(["topup", "spend", "gift", "freeze", "unfreeze", "unbalanced", "replay"]),
    st.integers(min_value=0, max_value=1),  # which customer
    st.integers(min_value=1, max_value=5000),  # amount in fen
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_random_postings_never_break_the_invariants(catalogue, ops):
    with transaction.atomic():
        users = [testing.make_customer(f"p{i}-{len(ops)}-{id(ops)}@example.com") for i in range(2)]
        expected = {(u.pk, k): 0 for u in users for k in ("cash", "gift", "frozen")}
        keys = []
        for n, (op, who, amount) in enumerate(ops):
            user = users[who]
            def code(kind, user=user):
                return ledger.customer_account_code(user.pk, kind)

            key = f"prop-{id(ops)}-{n}"
            recipes = {
                "topup": [("clearing:test", -amount), (code("cash"), amount)],
                "spend": [(code("cash"), -amount), ("revenue:cash", amount)],
                "gift": [("expense:gift", -amount), (code("gift"), amount)],
                "freeze": [(code("cash"), -amount), (code("frozen"), amount)],
                "unfreeze": [(code("frozen"), -amount), (code("cash"), amount)],
                "unbalanced": [(code("cash"), amount), ("revenue:cash", -amount + 1)],
            }
            if op == "replay":
                if not keys:
                    continue
                key, legs = keys[amount % len(keys)]
                ledger.post(key=key, kind="topup", legs=legs, customer=user)
                continue
            legs = recipes[op]
            try:
                ledger.post(key=key, kind="topup", legs=legs, customer=user)
            except ledger.LedgerError:
                continue
            keys.append((key, legs))
            for account_code, delta in legs:
                if account_code.startswith("cust:"):
                    _, pk, kind = account_code.split(":")
                    expected[(int(pk), kind)] += delta
        assert ledger.verify() == []
        for user in users:
            balances = ledger.balances(user)
            for kind in ("cash", "gift", "frozen"):
                assert balances[kind] == expected[(user.pk, kind)] >= 0
        transaction.set_rollback(True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_charges_of_different_customers_do_not_wait_on_the_revenue_account():
    """Platform accounts are hot: a charge in flight for one customer must not block another's."""
    import threading

    testing.load_test_catalogue()
    a, b = (testing.make_customer(f"{n}@example.com", balance_fen=1000, verified=False) for n in ("a", "b"))
    # Steady state: the platform account exists (its first creation is a one-off insert).
    ledger.post(key="first", kind="charge", legs=[(cash(b), -100), ("revenue:cash", 100)], customer=b)
    holding, release, errors = threading.Event(), threading.Event(), []

    def slow_charge():
        try:
            with transaction.atomic():
                ledger.post(key="slow", kind="charge", legs=[(cash(a), -100), ("revenue:cash", 100)], customer=a)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_charge)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            ledger.post(key="fast", kind="charge", legs=[(cash(b), -100), ("revenue:cash", 100)], customer=b)
    except Exception as exc:  # a lock timeout here is the regression
        errors.append(exc)
    finally:
        release.set()
        thread.join()
    assert errors == []
    assert ledger.balances(b)["cash"] == 800 and ledger.balances(a)["cash"] == 900
