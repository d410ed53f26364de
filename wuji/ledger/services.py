"""The only writer of money. `post()` records a balanced transaction; nothing else touches balances."""

import dataclasses
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Lookup, Q, Sum, Window
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from wuji.core import clock

from .choices import AccountKind, TransactionKind
from .models import Account, Posting, Transaction
from .signals import spendable_credited

SPENDABLE = (AccountKind.CASH, AccountKind.GIFT)


class LedgerError(Exception):
    """A refused posting; the message is safe to show a customer."""


class UnbalancedTransaction(LedgerError):
    pass


class InsufficientFunds(LedgerError):
    def __init__(self, account: Account, shortfall: int):
        super().__init__(_("余额不足。"))
        self.account = account
        self.shortfall = shortfall


class IdempotencyConflict(LedgerError):
    pass


@dataclasses.dataclass(frozen=True)
class Leg:
    account: str  # account code
    amount: int  # fen; positive credits, negative debits


def customer_account_code(customer_id: int, kind: str) -> str:
    return f"cust:{customer_id}:{kind}"


def open_customer_accounts(customer) -> None:
    """Create the customer's cash, gift and frozen accounts (idempotent)."""
    for kind in AccountKind.CUSTOMER_KINDS:
        Account.objects.get_or_create(
            code=customer_account_code(customer.pk, kind), defaults={"kind": kind, "customer": customer}
        )


def balances(customer, *, lock: bool = False) -> dict[str, int]:
    """{'cash': fen, 'gift': fen, 'frozen': fen} from the stored (verified) balances.

    `lock=True` (inside a transaction) locks the customer's accounts in the order `post()` uses, so no
    posting can change them until the caller commits (e.g. closing an account only while it is empty)."""
    accounts = Account.objects.filter(customer=customer)
    if lock:
        accounts = accounts.select_for_update().order_by("id")
    rows = accounts.values_list("kind", "balance")
    result = dict.fromkeys(AccountKind.CUSTOMER_KINDS, 0)
    result.update(rows)
    return result


def _normalise(legs: Iterable[Leg | tuple[str, int]]) -> list[Leg]:
    result = [leg if isinstance(leg, Leg) else Leg(*leg) for leg in legs]
    result = [leg for leg in result if leg.amount != 0]
    if len(result) < 2:
        raise UnbalancedTransaction("a transaction needs at least two non-zero postings")
    if any(not isinstance(leg.amount, int) or isinstance(leg.amount, bool) for leg in result):
        raise UnbalancedTransaction("amounts are integers in fen")
    if len({leg.account for leg in result}) != len(result):
        raise UnbalancedTransaction("each account appears once per transaction")
    if sum(leg.amount for leg in result) != 0:
        raise UnbalancedTransaction("postings must sum to zero")
    return result


def _same_legs(txn: Transaction, legs: Sequence[Leg]) -> bool:
    stored = sorted(txn.postings.values_list("account__code", "amount"))
    return stored == sorted((leg.account, leg.amount) for leg in legs)


def post(
    *,
    key: str,
    kind: str,
    legs: Iterable[Leg | tuple[str, int]],
    customer=None,
    cause: tuple[str, object] | None = None,
    memo: str = "",
    reverses: Transaction | None = None,
) -> Transaction:
    """Record a balanced transaction once per idempotency key and return it.

    A retry with the same key and the same postings returns the first transaction; the same key with
    different postings raises IdempotencyConflict. Customer accounts are locked in ascending id order,
    checked against going negative (InsufficientFunds) and updated with their version.
    """
    legs = _normalise(legs)
    if kind not in TransactionKind.values():
        raise LedgerError(f"unknown transaction kind {kind!r}")
    existing = Transaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replay(existing, legs)
    try:
        with transaction.atomic():
            return _post_new(key, kind, legs, customer, cause, memo, reverses)
    except IntegrityError:
        existing = Transaction.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, legs)


def _replay(existing: Transaction, legs: Sequence[Leg]) -> Transaction:
    if not _same_legs(existing, legs):
        raise IdempotencyConflict(f"idempotency key {existing.idempotency_key!r} was used for other postings")
    return existing


def _post_new(key, kind, legs, customer, cause, memo, reverses) -> Transaction:
    codes = [leg.account for leg in legs]
    customer_codes = [code for code in codes if code.startswith("cust:")]
    # Only customer accounts are locked (ascending id); platform accounts are hot and keep no stored
    # balance, so charges of different customers never wait on each other.
    accounts = {
        a.code: a for a in Account.objects.select_for_update().filter(code__in=customer_codes).order_by("id")
    }
    for code in customer_codes:
        if code not in accounts:
            raise LedgerError(f"unknown customer account {code}")
    platform_codes = [code for code in codes if code not in accounts]
    accounts.update((a.code, a) for a in Account.objects.filter(code__in=platform_codes))  # read, never locked
    for code in platform_codes:
        if code not in accounts:
            accounts[code], _created = Account.objects.get_or_create(code=code, defaults={"kind": AccountKind.PLATFORM})
        elif accounts[code].kind != AccountKind.PLATFORM:
            raise LedgerError(f"{code} is not a platform account")
    txn = Transaction.objects.create(
        idempotency_key=key,
        kind=kind,
        customer=customer,
        cause_type=cause[0] if cause else "",
        cause_id=str(cause[1]) if cause else "",
        memo=memo[:200],
        reverses=reverses,
        created_at=clock.now(),
    )
    postings = []
    for leg in sorted(legs, key=lambda leg: accounts[leg.account].pk):
        account = accounts[leg.account]
        balance_after = None
        if account.tracks_balance:
            balance_after = account.balance + leg.amount
            if balance_after < 0:
                raise InsufficientFunds(account, -balance_after)
            updated = Account.objects.filter(pk=account.pk, version=account.version).update(
                balance=balance_after, version=F("version") + 1
            )
            if updated != 1:  # the row changed under us: the lock was not held
                raise LedgerError(f"concurrent update of {account.code}")
        postings.append(Posting(transaction=txn, account=account, amount=leg.amount, balance_after=balance_after))
    Posting.objects.bulk_create(postings)
    credited = {accounts[leg.account].customer_id for leg in legs if leg.amount > 0
                and accounts[leg.account].kind in (AccountKind.CASH, AccountKind.GIFT)}
    for customer_id in credited:
        spendable_credited.send(sender=Transaction, customer_id=customer_id, txn=txn)
    return txn


def reverse(original: Transaction, *, memo: str = "") -> Transaction:
    """Correct a mistake with the opposite postings (冲正); the original stays as it was."""
    legs = [Leg(code, -amount) for code, amount in original.postings.values_list("account__code", "amount")]
    return post(
        key=f"reverse:{original.pk}",
        kind="correction",
        legs=legs,
        customer=original.customer,
        cause=("transaction", original.pk),
        memo=memo or f"reversal of #{original.pk}",
        reverses=original,
    )


def verify() -> list[str]:
    """Every invariant of the ledger; returns the violations (empty when the ledger is sound)."""
    problems = []
    unbalanced = (
        Transaction.objects.annotate(total=Sum("postings__amount")).exclude(total=0).values_list("pk", "total")
    )
    for pk, total in unbalanced:
        problems.append(f"transaction #{pk} sums to {total}, not 0")
    sums = Account.objects.exclude(kind=AccountKind.PLATFORM).annotate(total=Sum("postings__amount"))
    for account in sums:
        total = account.total or 0
        if total != account.balance:
            problems.append(f"account {account.code}: stored balance {account.balance} != sum of postings {total}")
        if account.balance < 0:
            problems.append(f"account {account.code} is negative: {account.balance}")
    running = (
        Posting.objects.filter(balance_after__isnull=False)
        .annotate(running=Window(expression=Sum("amount"), partition_by=[F("account_id")], order_by=F("id").asc()))
        .values_list("pk", "account__code", "balance_after", "running")
    )
    for pk, code, balance_after, running_total in running:
        if balance_after != running_total:
            problems.append(f"posting #{pk} on {code}: balance_after {balance_after} != running sum {running_total}")
    platform_with_balance = Account.objects.filter(kind=AccountKind.PLATFORM).exclude(balance=0)
    for account in platform_with_balance:
        problems.append(f"platform account {account.code} has a stored balance; platform balances are sums")
    problems.extend(_verify_immutability_guard())
    return problems


def _verify_immutability_guard() -> list[str]:
    """The database triggers that refuse UPDATE/DELETE on the journal must be in place."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'ledger_%_immutable%'")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger_%_immutable%'")
        else:
            return []
        found = {row[0] for row in cursor.fetchall()}
    expected = {"ledger_posting_immutable_upd", "ledger_posting_immutable_del",
                "ledger_transaction_immutable_upd", "ledger_transaction_immutable_del"}
    return [f"immutability trigger {name} is missing" for name in sorted(expected - found)]


def transactions_of(customer):
    """The customer's transactions (收支明细), newest first, each annotated with its net change to the
    customer's cash, gift and frozen balances and their total (`*_fen`), computed in the same query."""
    mine = Q(postings__account__customer=customer)

    def change(condition: Q):
        return Coalesce(Sum("postings__amount", filter=condition), 0)

    return (
        Transaction.objects.filter(customer=customer)
        .annotate(
            amount_fen=change(mine),
            cash_fen=change(mine & Q(postings__account__kind=AccountKind.CASH)),
            gift_fen=change(mine & Q(postings__account__kind=AccountKind.GIFT)),
            frozen_fen=change(mine & Q(postings__account__kind=AccountKind.FROZEN)),
        )
        .order_by("-id")
    )


def platform_balance(code: str) -> int:
    return Posting.objects.filter(account__code=code).aggregate(total=Sum("amount"))["total"] or 0


def customer_total_on(customer, code: str) -> int:
    """Σ of the postings on platform account `code` in the customer's transactions. For `revenue:cash` this is
    the cash the customer consumed, net of refunds and corrections from revenue (the invoiceable base)."""
    return (Posting.objects.filter(account__code=code, transaction__customer=customer)
            .aggregate(total=Sum("amount"))["total"] or 0)


# --- Bulk posting (settlement runs) ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchEntry:
    """One transaction of a batch: the same arguments as `post()`, the customer by id."""

    key: str
    kind: str
    legs: Sequence[Leg]
    customer_id: int | None = None
    cause: tuple[str, object] | None = None
    memo: str = ""


class AnyOf(Lookup):
    """`AnyOf(F("id"), [1, 2, …])`: the column is one of the values. PostgreSQL: `col = ANY(%s::type[])`, one
    parameter however many values (a chunk's thousand ids as a thousand placeholders cost more to send than to
    look up); elsewhere `col IN (%s, …)`."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=False) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", [*params, values]
        if not values:
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*params, *values]


class LockedBalances(dict):
    """{customer_id: {'cash': fen, 'gift': fen}}; `accounts` holds the locked rows by code for `post_batch`."""

    accounts: dict[str, Account]


def lock_customer_balances(customer_ids: Iterable[int]) -> LockedBalances:
    """Inside a transaction: lock the spendable (cash and gift) accounts of these customers in ascending id order (as
    `post()` does; a charge touches no other) and return {customer_id: {'cash': fen, 'gift': fen}}, the locked rows
    in `.accounts` (pass them to `post_batch`, which then need not lock them again)."""
    ids = sorted(set(customer_ids))
    result = LockedBalances((cid, dict.fromkeys(SPENDABLE, 0)) for cid in ids)
    result.accounts = {}
    rows = (Account.objects.select_for_update().filter(AnyOf(F("customer_id"), ids), kind__in=SPENDABLE)
            .order_by("id").only("id", "code", "kind", "customer_id", "balance", "version"))
    for account in rows:
        result[account.customer_id][account.kind] = account.balance
        result.accounts[account.code] = account
    return result


def post_batch(entries: Sequence[BatchEntry], *, locked: dict[str, Account] | None = None) -> list[int]:
    """Record many balanced transactions with a handful of statements, inside the caller's transaction.

    Customer accounts are locked in ascending id order; entries whose key already exists are skipped (a
    re-run after a crash is a no-op); running balances (`balance_after`) follow posting-id order per
    account, as `verify()` checks; a customer account going below zero raises InsufficientFunds and the
    caller's transaction rolls back whole. Stored balances are updated with one prepared statement. Returns
    the ids of the new transactions. `locked`: customer accounts this transaction has locked already (rows of
    `lock_customer_balances`), used as they are; the others are locked here.
    """
    if not connection.in_atomic_block:
        raise LedgerError("post_batch must run inside transaction.atomic()")
    if not entries:
        return []
    existing = set(Transaction.objects.filter(AnyOf(F("idempotency_key"), [e.key for e in entries]))
                   .values_list("idempotency_key", flat=True))
    todo, seen, kinds = [], set(), set(TransactionKind.values())
    for entry in entries:
        if entry.key in existing or entry.key in seen:
            continue
        if entry.kind not in kinds:
            raise LedgerError(f"unknown transaction kind {entry.kind!r}")
        seen.add(entry.key)
        todo.append((entry, _normalise(entry.legs)))
    if not todo:
        return []
    codes = {leg.account for _entry, legs in todo for leg in legs}
    customer_codes = [code for code in codes if code.startswith("cust:")]
    accounts = {code: locked[code] for code in customer_codes if locked and code in locked}
    if len(accounts) < len(customer_codes):
        accounts.update((a.code, a) for a in Account.objects.select_for_update().filter(
            AnyOf(F("code"), [code for code in customer_codes if code not in accounts])).order_by("id"))
    for code in customer_codes:
        if code not in accounts:
            raise LedgerError(f"unknown customer account {code}")
    platform_codes = [code for code in codes if code not in accounts]
    accounts.update((a.code, a) for a in Account.objects.filter(code__in=platform_codes))
    for code in platform_codes:
        if code not in accounts:
            accounts[code], _created = Account.objects.get_or_create(code=code, defaults={"kind": AccountKind.PLATFORM})
        elif accounts[code].kind != AccountKind.PLATFORM:
            raise LedgerError(f"{code} is not a platform account")
    created_at = Transaction._meta.get_field("created_at").get_db_prep_save(clock.now(), connection)
    ids_by_key = dict(insert_rows(
        Transaction,
        ["idempotency_key", "kind", "customer_id", "cause_type", "cause_id", "memo", "created_at"],
        [(entry.key, entry.kind, entry.customer_id, entry.cause[0] if entry.cause else "",
          str(entry.cause[1]) if entry.cause else "", entry.memo[:200], created_at) for entry, _legs in todo],
        returning="idempotency_key, id",
    ))
    running = {}
    postings = []
    for entry, legs in todo:
        txn_id = ids_by_key[entry.key]
        for leg in sorted(legs, key=lambda leg: accounts[leg.account].pk):
            account = accounts[leg.account]
            balance_after = None
            if account.tracks_balance:
                balance_after = running.get(account.code, account.balance) + leg.amount
                if balance_after < 0:
                    raise InsufficientFunds(account, -balance_after)
                running[account.code] = balance_after
            postings.append((txn_id, account.pk, leg.amount, balance_after))
    # Inserted in list order, so posting ids follow the running balances per account as verify() checks.
    insert_rows(Posting, ["transaction_id", "account_id", "amount", "balance_after"], postings)
    changed = []
    for code, balance in running.items():
        account = accounts[code]
        account.balance, account.version = balance, account.version + 1
        changed.append((account.balance, account.version, account.pk))
    update_rows(Account._meta.db_table, [("id", "bigint"), ("balance", "bigint"), ("version", "bigint")],
                [(pk, balance, version) for balance, version, pk in changed])
    return [ids_by_key[entry.key] for entry, _legs in todo]


def insert_rows(model, columns: list[str], rows: list[tuple], *, returning: str = "") -> list:
    """INSERT `rows` (tuples of `columns`, attnames of `model`) in list order, so serial ids follow the list; with
    `returning`, the returned rows. PostgreSQL: one `INSERT … SELECT FROM unnest(array, …) WITH ORDINALITY ORDER BY`
    per 10,000 rows — one parameter per column, not per value (the client builds the statement text itself, and
    parsing tens of thousands of placeholders per statement was most of the time). SQLite: multi-row VALUES."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        types = [model._meta.get_field(column).db_type(connection) for column in columns]
        result = []
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 10_000):
                values = [list(column) for column in zip(*rows[start:start + 10_000], strict=True)]
                # A column with one value throughout (kind, memo, time of a settlement chunk) is one parameter.
                same = [len(set(column)) == 1 for column in values]
                varying = [i for i in range(len(columns)) if not same[i]] or [0]
                select = ", ".join(f"v.c{i}" if i in varying else f"%s::{types[i]}" for i in range(len(columns)))
                arrays = ", ".join(f"%s::{types[i]}[]" for i in varying)
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM unnest({arrays}) "
                    f"WITH ORDINALITY AS v({', '.join(f'c{i}' for i in varying)}, o) ORDER BY v.o"
                    + (f" RETURNING {returning}" if returning else ""),
                    [*(values[i][0] for i in range(len(columns)) if i not in varying), *(values[i] for i in varying)])
                if returning:
                    result.extend(cursor.fetchall())
        return result
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    result = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start:start + 500]
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(part))}"
                           + (f" RETURNING {returning}" if returning else ""), [value for row in part for value in row])
            if returning:
                result.extend(cursor.fetchall())
    return result


def update_rows(table: str, columns: list[tuple[str, str]], rows: list, *, batch: int = 1000) -> None:
    """UPDATE many rows by id: `columns` are (column, database type), the first one the id. PostgreSQL: one
    `UPDATE t SET c = v.c FROM unnest(array, …)` per 10,000 rows (one parameter per column); SQLite (≥ 3.33):
    `UPDATE t SET c = v.columnN FROM (VALUES …)` per `batch` rows."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 10_000):
                values = [list(column) for column in zip(*rows[start:start + 10_000], strict=True)]
                # A column with one value throughout (a settlement's period end) is one parameter.
                same = [i > 0 and len(set(column)) == 1 for i, column in enumerate(values)]
                varying = [i for i in range(len(columns)) if not same[i]]
                names = [columns[i][0] for i in varying]
                assignments = ", ".join(f"{column} = v.{column}" if not same[i] else f"{column} = %s::{db_type}"
                                        for i, (column, db_type) in enumerate(columns) if i > 0)
                arrays = ", ".join(f"%s::{columns[i][1]}[]" for i in varying)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) "
                    f"WHERE {table}.{names[0]} = v.{names[0]}",
                    [*(values[i][0] for i in range(len(columns)) if same[i]), *(values[i] for i in varying)])
        return
    assignments = ", ".join(f"{column} = v.column{i + 2}" for i, (column, _db_type) in enumerate(columns[1:]))
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(part))}) AS v "
                f"WHERE {table}.id = v.column1",
                [item for row in part for item in row],
            )
