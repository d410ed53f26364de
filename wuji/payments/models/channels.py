"""Payment notices received from the channels, and bank transfers (对公转账) declared by customers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import BankTransferStatus, NoticeOutcome, PaymentChannel
from ..storage import private_storage, receipt_path


class PaymentNotice(models.Model):
    """Every asynchronous notice a channel (or anyone pretending to be one) sent us, trusted or not.

    Kept so staff can see tampered, stale and replayed notices. `digest` is the SHA-256 of what was
    received (signed headers and raw body), so an identical replay is recognisable; crediting itself is
    keyed on the channel trade number, which is what makes replays harmless."""

    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=PaymentChannel)
    received_at = models.DateTimeField(verbose_name=_("received at"))
    ip = models.GenericIPAddressField(verbose_name=_("IP"), null=True, blank=True)
    digest = models.CharField(verbose_name=_("digest"), max_length=64, db_index=True)
    repeated = models.BooleanField(verbose_name=_("identical to an earlier notice"), default=False)
    verified = models.BooleanField(verbose_name=_("signature verified"), default=False)
    outcome = models.CharField(verbose_name=_("outcome"), max_length=16, choices=NoticeOutcome)
    detail = models.CharField(verbose_name=_("detail"), max_length=300, blank=True)
    out_trade_no = models.CharField(verbose_name=_("our trade number"), max_length=64, blank=True)
    channel_trade_no = models.CharField(verbose_name=_("channel trade number"), max_length=64, blank=True)
    amount_fen = models.BigIntegerField(verbose_name=_("amount (fen)"), null=True, blank=True)
    summary = models.JSONField(verbose_name=_("fields received"), default=dict, blank=True)
    topup = models.ForeignKey(to="payments.TopUp", verbose_name=_("top-up"), on_delete=models.PROTECT,
                              related_name="notices", null=True, blank=True)

    class Meta:
        verbose_name = _("payment notice")
        verbose_name_plural = _("payment notices")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.out_trade_no or '?'} {self.outcome}"


class BankTransfer(models.Model):
    """A bank transfer (对公转账) the customer says they made; finance confirms what actually arrived."""

    customer = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="bank_transfers")
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("declared amount (fen)"))
    payer_name = models.CharField(verbose_name=_("payer account name"), max_length=100)
    payer_bank = models.CharField(verbose_name=_("payer bank"), max_length=100)
    transfer_date = models.DateField(verbose_name=_("transfer date"))
    reference = models.CharField(verbose_name=_("reference / memo"), max_length=100, blank=True)
    receipt = models.FileField(verbose_name=_("receipt"), storage=private_storage, upload_to=receipt_path,
                               blank=True, max_length=200)
    receipt_content_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=BankTransferStatus,
                              default=BankTransferStatus.PENDING)
    received_fen = models.PositiveBigIntegerField(verbose_name=_("received amount (fen)"), null=True, blank=True)
    reason = models.CharField(verbose_name=_("reason"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"),
                                    on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    reviewed_at = models.DateTimeField(verbose_name=_("reviewed at"), null=True, blank=True)
    topup = models.OneToOneField(to="payments.TopUp", verbose_name=_("credit"), on_delete=models.PROTECT,
                                 related_name="bank_transfer", null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("declared at"))

    class Meta:
        verbose_name = _("bank transfer")
        verbose_name_plural = _("bank transfers")
        ordering = ["-id"]
        permissions = [("review_banktransfer", "Can confirm or reject bank transfers (finance)")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="payments_banktransfer_positive"),
        ]

    def __str__(self) -> str:
        return f"BT{self.pk}"

    @property
    def number(self) -> str:
        return f"BT{self.pk}"
