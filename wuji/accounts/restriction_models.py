"""Selective restrictions of account functions (clause 4.5.2.2). Written only by `wuji.accounts.restrictions`."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import RestrictedFunction

__all__ = ["AccountRestriction"]


class AccountRestriction(models.Model):
    """One account function (new purchases, renewal, withdrawal, API access) restricted by staff, with the
    reason the user is shown. Open while `lifted_at` is null; at most one open restriction per account and
    function. Rows are never deleted: lifting fills `lifted_*`.

    `imposed_by` / `lifted_by` are the staff members, or null when the system acted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("账户"), on_delete=models.PROTECT,
                             related_name="restrictions")
    function = models.CharField(verbose_name=_("受限功能"), max_length=16, choices=RestrictedFunction.choices())
    reason = models.CharField(verbose_name=_("限制原因"), max_length=500)
    imposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("限制人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    imposed_at = models.DateTimeField(verbose_name=_("限制时间"))
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("解除人"), on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    lifted_at = models.DateTimeField(verbose_name=_("解除时间"), null=True, blank=True)
    lift_reason = models.CharField(verbose_name=_("解除原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("账户功能限制")
        verbose_name_plural = _("账户功能限制")
        ordering = ["-imposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "function"], condition=Q(lifted_at__isnull=True),
                name="accounts_restriction_one_open_per_function",
                violation_error_message=_("该账户的此项功能已被限制。"),
            ),
            models.CheckConstraint(condition=Q(function__in=RestrictedFunction.values()),
                                   name="accounts_restriction_function_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {RestrictedFunction.label(self.function)}"

    @property
    def is_open(self) -> bool:
        return self.lifted_at is None
