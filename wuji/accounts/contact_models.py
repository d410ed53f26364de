"""Contact-validity flags (clause 4.5.1 ¶ contacts). Written only by `wuji.accounts.contacts`."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import ContactKind

__all__ = ["ContactFlag"]


class ContactFlag(models.Model):
    """One contact of an account found invalid: the user must fix it by `deadline`, otherwise the account is
    restricted (`restricted_at`) until the contact is fixed or staff lift the flag (`resolved_at`).

    `flagged_by` is the staff member who flagged it, or null when the system did (undeliverable notices).
    At most one unresolved flag per account and contact.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("账户"), on_delete=models.PROTECT,
                             related_name="contact_flags")
    contact = models.CharField(verbose_name=_("联系方式"), max_length=16, choices=ContactKind.choices())
    value_masked = models.CharField(verbose_name=_("被标记的联系方式"), max_length=254)
    reason = models.CharField(verbose_name=_("原因"), max_length=500)
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("标记人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("标记时间"))
    deadline = models.DateTimeField(verbose_name=_("更正期限"))
    restricted_at = models.DateTimeField(verbose_name=_("限制时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(verbose_name=_("解除时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("解除人"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    resolution = models.CharField(verbose_name=_("解除说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("联系方式失效标记")
        verbose_name_plural = _("联系方式失效标记")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["resolved_at", "restricted_at", "deadline"], name="accounts_cflag_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "contact"], condition=Q(resolved_at__isnull=True),
                name="accounts_cflag_one_open_per_contact",
                violation_error_message=_("该联系方式已有未处理的失效标记。"),
            ),
            models.CheckConstraint(condition=Q(contact__in=ContactKind.values()), name="accounts_cflag_contact_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {ContactKind.label(self.contact)} {self.value_masked}"

    @property
    def flagged_by_label(self) -> str:
        return str(self.flagged_by) if self.flagged_by_id else "system"

    @property
    def status(self) -> str:
        """"resolved", "restricted" or "open"."""
        if self.resolved_at is not None:
            return "resolved"
        return "restricted" if self.restricted_at is not None else "open"
