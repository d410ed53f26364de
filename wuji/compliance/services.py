"""Compliance services: the only writers of ICP filings. The customer's form arrives with issue 6; staff review
in the console; network's edge export reads the approved ones."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock

from .choices import FilingStatus
from .models import IcpFiling


class ReviewRefused(Exception):
    """The filing was already decided (by someone else, or twice); nothing changed."""


def submit_filing(*, owner, domain: str, icp_number: str, server, actor, channel: str,
                  ip: str | None = None) -> IcpFiling:
    """Record a customer's ICP filing for a domain on one of their servers, waiting for review. Raises
    ValidationError naming the field (domain, icp_number, server); nothing is saved then."""
    filing = IcpFiling(owner=owner, domain=domain, icp_number=icp_number, server=server,
                       status=FilingStatus.SUBMITTED, submitted_at=clock.now())
    filing.full_clean()
    with transaction.atomic():
        filing.save()
        audit.record(actor=actor, owner=owner, channel=channel, action="icp_filing.submit", target=filing,
                     params={"domain": filing.domain, "icp_number": filing.icp_number, "server": server.pk}, ip=ip)
    return filing


def _decide(filing: IcpFiling, status: str, *, actor, reason: str, ip: str | None, action: str) -> IcpFiling:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写审核意见。")})
    now = clock.now()
    with transaction.atomic():
        decided = IcpFiling.objects.filter(pk=filing.pk, status=FilingStatus.SUBMITTED).update(
            status=status, reviewed_by=actor, reviewed_at=now, review_reason=reason)
        if not decided:
            raise ReviewRefused(_("该备案记录已审核过，未重复处理。"))
        audit.record(actor=actor, owner=filing.owner, channel="staff", action=action, target=filing,
                     params={"domain": filing.domain, "icp_number": filing.icp_number, "reason": reason}, ip=ip)
    filing.refresh_from_db()
    return filing


def approve_filing(filing: IcpFiling, *, actor, reason: str, ip: str | None = None) -> IcpFiling:
    """Staff confirmed the filing (in the MIIT system and the access record): the edge lets the domain through."""
    return _decide(filing, FilingStatus.APPROVED, actor=actor, reason=reason, ip=ip, action="icp_filing.approve")


def reject_filing(filing: IcpFiling, *, actor, reason: str, ip: str | None = None) -> IcpFiling:
    """Staff refused the filing; the reason is kept for the customer."""
    return _decide(filing, FilingStatus.REJECTED, actor=actor, reason=reason, ip=ip, action="icp_filing.reject")


def approved_filings(*, mainland_only: bool = True):
    """Approved filings (with their servers), for the edge's allow-list: only mainland regions need them."""
    filings = IcpFiling.objects.filter(status=FilingStatus.APPROVED).select_related("server")
    return filings.filter(server__region__is_mainland=True) if mainland_only else filings
