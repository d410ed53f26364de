"""Orders: what a customer bought, at the price in force when they bought it (3.5, 5.1)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuji.catalog.choices import BillingCycle


class Order(models.Model):
    """A paid purchase of one server. Created only together with its charge (one transaction)."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    region = models.ForeignKey(
        to="catalog.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(to="catalog.Plan", verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+")
    image = models.ForeignKey(to="catalog.Image", verbose_name=_("image"), on_delete=models.PROTECT, related_name="+")
    cycle = models.CharField(verbose_name=_("billing cycle"), max_length=16, choices=BillingCycle)
    price = models.ForeignKey(
        to="catalog.Price", verbose_name=_("price list row"), on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("amount (fen)"))
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=100)
    ledger_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("charge"), on_delete=models.PROTECT, related_name="order"
    )
    server = models.OneToOneField(
        to="compute.Server", verbose_name=_("server"), on_delete=models.PROTECT, related_name="order"
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="billing_order_idempotent"),
        ]
        indexes = [models.Index(fields=["customer", "-id"], name="billing_order_customer_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.plan.code} {self.amount_fen}"
