"""The double-entry ledger: accounts, transactions and postings.

Invariants (checked by `wuji ledger verify`, enforced at write time by `services.post`):
- every transaction's postings sum to zero;
- a customer account's stored balance equals the sum of its postings and is never negative
  (also a database CHECK constraint);
- idempotency keys are unique; transactions and postings are never updated or deleted
  (mistakes are corrected by reversing transactions).
Platform accounts (revenue, clearing…) are hot and do not keep a stored balance: theirs is the sum.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import AccountKind, TransactionKind


class ImmutableError(Exception):
    pass


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"{type(self).__name__} rows are append-only")


class Account(models.Model):
    """A ledger account. Customer accounts (cash, gift, frozen) keep a locked, versioned stored balance."""

    code = models.CharField(verbose_name=_("code"), max_length=100, unique=True)
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=AccountKind)
    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
        null=True,
        blank=True,
    )
    balance = models.BigIntegerField(verbose_name=_("balance (fen)"), default=0)
    version = models.PositiveBigIntegerField(verbose_name=_("version"), default=0)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=AccountKind.PLATFORM) | models.Q(balance__gte=0),
                name="ledger_account_customer_balance_non_negative",
                violation_error_message=_("A customer balance cannot go below zero."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind=AccountKind.PLATFORM, customer__isnull=True)
                | (~models.Q(kind=AccountKind.PLATFORM) & models.Q(customer__isnull=False)),
                name="ledger_account_customer_iff_customer_kind",
            ),
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=models.Q(customer__isnull=False),
                name="ledger_account_one_per_customer_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def tracks_balance(self) -> bool:
        return self.kind != AccountKind.PLATFORM


class Transaction(AppendOnlyModel):
    """A balanced set of postings with a unique idempotency key built from its cause."""

    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=TransactionKind)
    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="ledger_transactions",
        null=True,
        blank=True,
    )
    cause_type = models.CharField(verbose_name=_("cause type"), max_length=50, blank=True)
    cause_id = models.CharField(verbose_name=_("cause id"), max_length=64, blank=True)
    memo = models.CharField(verbose_name=_("memo"), max_length=200, blank=True)
    reverses = models.OneToOneField(
        to="self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        related_name="reversed_by",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), db_index=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-id"]
        permissions = [("grant_gift_credit", "Can grant gift credit (赠送金) to a customer")]
        indexes = [models.Index(fields=["customer", "-id"], name="ledger_txn_customer_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.idempotency_key}"


class Posting(AppendOnlyModel):
    """One leg of a transaction: a positive amount credits the account, a negative one debits it."""

    transaction = models.ForeignKey(
        to=Transaction, verbose_name=_("transaction"), on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(
        to=Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="postings"
    )
    amount = models.BigIntegerField(verbose_name=_("amount (fen)"))
    balance_after = models.BigIntegerField(verbose_name=_("balance after (fen)"), null=True, blank=True)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_posting_amount_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount:+d}"
