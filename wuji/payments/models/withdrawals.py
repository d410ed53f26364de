"""Money out: withdrawals (提现) and frozen funds returned to their source (原路退回), each paid out by refund
legs — one per top-up it is refunded to (newest first) plus, for what no top-up can take back, a bank payout —
and the customers' bank accounts (6.3: stored encrypted, looked up by keyed hash, shown masked)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import RefundLegStatus, WithdrawalKind, WithdrawalStatus


class BankAccount(models.Model):
    """A customer's bank account for payouts. Every detail is Fernet-encrypted; `number_hash` is
    `keyed_hash(number, "bank-account-number")`; only the last four digits are kept in the clear."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="bank_accounts",
    )
    holder_encrypted = models.TextField(verbose_name=_("开户名（加密）"))
    bank_encrypted = models.TextField(verbose_name=_("开户银行（加密）"))
    branch_encrypted = models.TextField(verbose_name=_("开户支行（加密）"))
    number_encrypted = models.TextField(verbose_name=_("银行账号（加密）"))
    number_hash = models.CharField(verbose_name=_("银行账号摘要"), max_length=64, db_index=True)
    number_last4 = models.CharField(verbose_name=_("账号后四位"), max_length=4)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    removed_at = models.DateTimeField(verbose_name=_("removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("银行账户")
        verbose_name_plural = _("银行账户")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "number_hash"], condition=Q(removed_at__isnull=True),
                                    name="payments_bankaccount_unique_active"),
        ]

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        return f"**** **** {self.number_last4}"


class Withdrawal(models.Model):
    """One request for money out. The money leaves the customer's balance when the request is accepted
    (`hold_transaction`: cash or frozen → payable:refunds, plus the fee), so a withdrawal racing a purchase can
    never spend the same yuan twice; a rejection or cancellation reverses that transaction."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="withdrawals"
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=WithdrawalKind)
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("amount (fen)"))
    fee_fen = models.PositiveBigIntegerField(verbose_name=_("fee (fen)"), default=0)
    status = models.CharField(verbose_name=_("status"), max_length=20, choices=WithdrawalStatus)
    bank_account = models.ForeignKey(
        to=BankAccount, verbose_name=_("bank account"), on_delete=models.PROTECT, related_name="withdrawals",
        null=True, blank=True,
    )
    freeze = models.ForeignKey(
        to="billing.Freeze", verbose_name=_("freeze"), on_delete=models.PROTECT, related_name="refunds",
        null=True, blank=True,
    )
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=100)
    factor = models.CharField(verbose_name=_("step-up factor"), max_length=16, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    decided_at = models.DateTimeField(verbose_name=_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    decision_reason = models.CharField(verbose_name=_("reason"), max_length=500, blank=True)
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    hold_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("hold"), on_delete=models.PROTECT, related_name="withdrawal",
    )
    reversal_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("reversal"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )

    class Meta:
        verbose_name = _("提现与退款")
        verbose_name_plural = _("提现与退款")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="payments_withdrawal_idempotent"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_withdrawal_positive"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"], name="payments_wd_customer_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.amount_fen}"

    @property
    def total_fen(self) -> int:
        return self.amount_fen + self.fee_fen


class Refund(models.Model):
    """One payout leg: part of a withdrawal refunded to one top-up's channel (原路退回) or, with no top-up,
    paid to the customer's bank account by finance staff. `refund_no` is sent to the channel, which
    deduplicates on it, so a retry never pays twice; it is also the cause of the leg's ledger postings."""

    refund_no = models.CharField(verbose_name=_("refund number"), max_length=64, unique=True)
    withdrawal = models.ForeignKey(
        to=Withdrawal, verbose_name=_("withdrawal"), on_delete=models.PROTECT, related_name="refunds"
    )
    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="refunds"
    )
    topup = models.ForeignKey(
        to="payments.TopUp", verbose_name=_("top-up"), on_delete=models.PROTECT, related_name="refunds",
        null=True, blank=True,
    )
    bank_account = models.ForeignKey(
        to=BankAccount, verbose_name=_("bank account"), on_delete=models.PROTECT, related_name="refunds",
        null=True, blank=True,
    )
    channel = models.CharField(verbose_name=_("channel"), max_length=16)
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("amount (fen)"))
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=RefundLegStatus,
                              default=RefundLegStatus.PENDING)
    channel_refund_no = models.CharField(verbose_name=_("channel refund number"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    accepted = models.BooleanField(verbose_name=_("accepted by the channel"), default=False,
                                   help_text=_("the channel took the request; its final result is queried later"))
    last_error = models.CharField(verbose_name=_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("paid by"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    ledger_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("payout"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    return_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("money returned"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )

    class Meta:
        verbose_name = _("退款明细")
        verbose_name_plural = _("退款明细")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_refund_positive")]
        indexes = [models.Index(fields=["status", "channel"], name="payments_refund_status")]

    def __str__(self) -> str:
        return self.refund_no

    @property
    def is_bank_payout(self) -> bool:
        return self.topup_id is None
