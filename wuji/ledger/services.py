"""The only writer of money. `post()` records a balanced transaction; nothing else touches balances."""

import dataclasses
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum, Window
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from wuji.core import clock

from .choices import AccountKind, TransactionKind
from .models import Account, Posting, Transaction
from .signals import spendable_credited


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
