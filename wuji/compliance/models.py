"""Compliance: ICP filings (ICP备案) for now; complaints, abuse rules and the rest come with issue 6."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import FilingStatus
from .validators import normalise_domain, normalise_icp_number


class IcpFiling(models.Model):
    """A customer's ICP filing for a domain served from one of their servers. Once staff approve it, the edge
    lets the domain (and its subdomains) through to that server's public IP on 80/443 in mainland regions.

    `domain` and `icp_number` are stored normalised (lower-case punycode; no whitespace); a domain has at most
    one filing that is waiting or approved."""

    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="icp_filings"
    )
    domain = models.CharField(verbose_name=_("域名"), max_length=253)
    icp_number = models.CharField(verbose_name=_("ICP 备案号"), max_length=40)
    server = models.ForeignKey(
        to="compute.Server", verbose_name=_("服务器"), on_delete=models.PROTECT, related_name="icp_filings"
    )
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=FilingStatus,
                              default=FilingStatus.SUBMITTED)
    submitted_at = models.DateTimeField(verbose_name=_("提交时间"))
    reviewed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    reviewed_at = models.DateTimeField(verbose_name=_("审核时间"), null=True, blank=True)
    review_reason = models.CharField(verbose_name=_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("ICP 备案")
        verbose_name_plural = _("ICP 备案")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["domain"], condition=Q(status__in=FilingStatus.LIVE),
                                    name="compliance_one_live_filing_per_domain",
                                    violation_error_message=_("该域名已有待审核或已通过的备案记录。")),
            models.CheckConstraint(condition=Q(status=FilingStatus.SUBMITTED) | Q(reviewed_at__isnull=False),
                                   name="compliance_filing_reviewed_when_decided"),
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({self.icp_number})"

    def clean(self):
        errors = {}
        for field, normalise in (("domain", normalise_domain), ("icp_number", normalise_icp_number)):
            try:
                setattr(self, field, normalise(getattr(self, field)))
            except ValidationError as exc:
                errors[field] = exc.messages
        if self.server_id and self.owner_id and self.server.owner_id != self.owner_id:
            errors["server"] = [_("只能为自己的服务器备案。")]
        if errors:
            raise ValidationError(errors)
