from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import PaymentChannel, TopUpStatus


class TopUp(models.Model):
    """A top-up (充值) order sent to a payment channel; credited once, when the channel's signed notice
    is verified. The channel's trade number is unique per channel, so a repeated notice is a no-op."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="topups"
    )
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=PaymentChannel)
    out_trade_no = models.CharField(verbose_name=_("our trade number"), max_length=64, unique=True)
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("amount (fen)"))
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=TopUpStatus,
                              default=TopUpStatus.PENDING)
    channel_trade_no = models.CharField(verbose_name=_("channel trade number"), max_length=64, blank=True)
    ledger_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("credit"), on_delete=models.PROTECT, related_name="topup",
        null=True, blank=True,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    paid_at = models.DateTimeField(verbose_name=_("paid at"), null=True, blank=True)
    # Unpaid orders close at expires_at (the channel is told the same deadline); null on old rows.
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True)
    closed_at = models.DateTimeField(verbose_name=_("closed at"), null=True, blank=True)
    # What the channel gave us to pay with (WeChat Native: the code_url), filled by a task after commit.
    code_url = models.CharField(verbose_name=_("payment code URL"), max_length=512, blank=True)
    channel_error = models.CharField(verbose_name=_("channel error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("top-up")
        verbose_name_plural = _("top-ups")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_trade_no"], condition=~models.Q(channel_trade_no=""),
                name="payments_topup_channel_trade_unique",
            ),
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="payments_topup_positive"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no
