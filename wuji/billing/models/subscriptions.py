"""Prepaid subscriptions (包年包月): one per prepaid server, the period it is paid to, and every charge or
refund that changed it (3.5, 4.5.2.1, 5.1, 5.3)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuji.catalog.choices import BillingCycle

from ..subscription_choices import ChargeKind, SubscriptionState


class Subscription(models.Model):
    """The paid term of one prepaid server. `period_end` is authoritative; `Server.expires_at` mirrors it.

    The period end is always `started_at + term_months` calendar months in business time, so successive
    renewals never drift (Jan 31 + 1 month = Feb 28, + 2 months = Mar 31).
    `paid_cash_fen` / `paid_gift_fen` are what the customer has paid into it net of refunds, by source;
    refunds of unused time are split in that proportion (LEDGER.md).
    """

    customer = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="subscriptions")
    server = models.OneToOneField(to="compute.Server", verbose_name=_("server"), on_delete=models.PROTECT,
                                  related_name="subscription")
    order = models.OneToOneField(to="billing.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                                 related_name="subscription")
    region = models.ForeignKey(to="catalog.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="+")
    plan = models.ForeignKey(to="catalog.Plan", verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+")
    cycle = models.CharField(verbose_name=_("billing cycle"), max_length=16, choices=BillingCycle)
    price = models.ForeignKey(to="catalog.Price", verbose_name=_("price list row"), on_delete=models.PROTECT,
                              related_name="+")
    price_fen = models.PositiveBigIntegerField(verbose_name=_("recorded price per cycle (fen)"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    term_months = models.PositiveIntegerField(verbose_name=_("months paid"))
    period_start = models.DateTimeField(verbose_name=_("current period start"))
    period_end = models.DateTimeField(verbose_name=_("current period end"))
    auto_renew = models.BooleanField(verbose_name=_("auto-renew"), default=False)
    state = models.CharField(verbose_name=_("state"), max_length=16, choices=SubscriptionState,
                             default=SubscriptionState.ACTIVE)
    paid_cash_fen = models.BigIntegerField(verbose_name=_("paid in cash, net (fen)"), default=0)
    paid_gift_fen = models.BigIntegerField(verbose_name=_("paid in gift, net (fen)"), default=0)
    expired_at = models.DateTimeField(verbose_name=_("expired at"), null=True, blank=True)
    released_at = models.DateTimeField(verbose_name=_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "period_end"], name="billing_sub_state_end"),
            models.Index(fields=["customer", "-id"], name="billing_sub_customer_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(paid_cash_fen__gte=0, paid_gift_fen__gte=0),
                                   name="billing_sub_paid_not_negative"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.server_id} → {self.period_end:%Y-%m-%d}"


class SubscriptionCharge(models.Model):
    """One money event of a subscription: the order, a renewal, a plan change or a refund.

    A renewal row is unique per (subscription, the period end it extended): that is the record that makes a
    renewal happen exactly once per period whoever asks."""

    subscription = models.ForeignKey(to=Subscription, verbose_name=_("subscription"), on_delete=models.PROTECT,
                                     related_name="charges")
    kind = models.CharField(verbose_name=_("kind"), max_length=24, choices=ChargeKind)
    cycles = models.PositiveIntegerField(verbose_name=_("cycles"), default=0)
    amount_fen = models.BigIntegerField(verbose_name=_("amount (fen, refunds negative)"))
    cash_fen = models.BigIntegerField(verbose_name=_("cash part (fen)"), default=0)
    gift_fen = models.BigIntegerField(verbose_name=_("gift part (fen)"), default=0)
    period_end_before = models.DateTimeField(verbose_name=_("period end before"))
    period_end_after = models.DateTimeField(verbose_name=_("period end after"))
    plan_before = models.ForeignKey(to="catalog.Plan", verbose_name=_("plan before"), on_delete=models.PROTECT,
                                    related_name="+")
    plan_after = models.ForeignKey(to="catalog.Plan", verbose_name=_("plan after"), on_delete=models.PROTECT,
                                   related_name="+")
    ledger_transaction = models.OneToOneField(to="ledger.Transaction", verbose_name=_("ledger transaction"),
                                              on_delete=models.PROTECT, related_name="subscription_charge",
                                              null=True, blank=True)
    request_key = models.CharField(verbose_name=_("idempotency key"), max_length=100, blank=True)
    channel = models.CharField(verbose_name=_("channel"), max_length=16, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("subscription charge")
        verbose_name_plural = _("subscription charges")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_end_before"],
                                    condition=models.Q(kind=ChargeKind.RENEWAL), name="billing_renewal_once"),
            models.UniqueConstraint(fields=["subscription", "request_key"], condition=~models.Q(request_key=""),
                                    name="billing_subcharge_idempotent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_fen}"


class SubscriptionNotice(models.Model):
    """A lifecycle notice sent for one period (reminder T−7/T−3/T−1, expired, release notice…): the unique
    row makes each one go out exactly once, however many schedulers run the job."""

    subscription = models.ForeignKey(to=Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE,
                                     related_name="notices")
    period_end = models.DateTimeField(verbose_name=_("period end"))
    kind = models.CharField(verbose_name=_("kind"), max_length=32)
    created_at = models.DateTimeField(verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("subscription notice")
        verbose_name_plural = _("subscription notices")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_end", "kind"], name="billing_subnotice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subscription_id} {self.period_end:%Y-%m-%d}"
