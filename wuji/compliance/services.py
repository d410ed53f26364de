"""Compliance services: the only writers of ICP filings and of the disclosure register (5.2). Customers file and
withdraw in the portal and the API (`register_filing`, `withdraw_filing`); staff review in the console; network's
edge export reads the approved ones; `dns_check` records whether approved domains still point at their server."""

import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock
from wuji.core.private_files import decrypted_bytes, encrypted_file
from wuji.notifications.services import notify

from . import disclosure_export
from .choices import DisclosureStatus, FilingStatus
from .models import Disclosure, IcpFiling


class ReviewRefused(Exception):
    """The filing was already decided (by someone else, or twice); nothing changed."""


class WithdrawRefused(Exception):
    """The filing is no longer waiting or approved (rejected or already withdrawn); nothing changed."""


def submit_filing(*, owner, domain: str, icp_number: str, server, actor, channel: str,
                  ip: str | None = None) -> IcpFiling:
    """Record a customer's ICP filing for a domain on one of their servers, waiting for review. Raises
    ValidationError naming the field (domain, icp_number, server); nothing is saved then."""
    filing = IcpFiling(owner=owner, domain=domain, icp_number=icp_number, server=server,
                       status=FilingStatus.SUBMITTED, submitted_at=clock.now())
    filing.full_clean()
    try:
        with transaction.atomic():
            filing.save()
            audit.record(actor=actor, owner=owner, channel=channel, action="icp_filing.submit", target=filing,
                         params={"domain": filing.domain, "icp_number": filing.icp_number, "server": server.pk},
                         ip=ip)
    except IntegrityError:  # a concurrent filing for the same domain won the race past full_clean
        raise ValidationError({"domain": _("该域名已有待审核或已通过的备案记录。")}) from None
    return filing


def filings_of(owner):
    """A customer's own filings, newest first (owner boundary: someone else's filing is not found)."""
    return IcpFiling.objects.filter(owner=owner).select_related("server", "server__region")


def register_filing(*, owner, domain: str, icp_number: str, server, actor, channel: str,
                    ip: str | None = None) -> IcpFiling:
    """The customer's form (portal and API): `server` must be one of the owner's servers, in a mainland region —
    elsewhere no filing is needed and none is taken. Then as `submit_filing`."""
    if server is not None and server.owner_id == owner.pk and not server.region.is_mainland:
        raise ValidationError({"server": _("服务器“%(name)s”位于%(region)s，不在中国大陆地域，网站无需 ICP 备案即可"
                                           "访问；只有中国大陆地域的服务器需要备案。")
                               % {"name": server.name, "region": server.region.name}})
    return submit_filing(owner=owner, domain=domain, icp_number=icp_number, server=server, actor=actor,
                         channel=channel, ip=ip)


def withdraw_filing(filing: IcpFiling, *, actor, channel: str, ip: str | None = None) -> IcpFiling:
    """The owner withdraws a filing still waiting for review or approved: it leaves the edge's allow-list at once
    and the domain may be filed again. Raises WithdrawRefused for a rejected or withdrawn one."""
    with transaction.atomic():
        withdrawn = IcpFiling.objects.filter(pk=filing.pk, status__in=FilingStatus.LIVE).update(
            status=FilingStatus.WITHDRAWN, withdrawn_at=clock.now(), flagged_since=None)
        if not withdrawn:
            raise WithdrawRefused(_("只有待审核或已通过的备案可以撤回。"))
        audit.record(actor=actor, owner=filing.owner, channel=channel, action="icp_filing.withdraw", target=filing,
                     params={"domain": filing.domain, "icp_number": filing.icp_number, "was": filing.status}, ip=ip)
    filing.refresh_from_db()
    return filing


def _decide(filing: IcpFiling, status: str, *, actor, reason: str, ip: str | None, action: str,
            event: str) -> IcpFiling:
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
        notify(filing.owner, event, {"domain": filing.domain, "icp_number": filing.icp_number,
                                     "server": filing.server.name, "reason": reason})
    return filing


def approve_filing(filing: IcpFiling, *, actor, reason: str, ip: str | None = None) -> IcpFiling:
    """Staff confirmed the filing (in the MIIT system and the access record): the edge lets the domain through."""
    return _decide(filing, FilingStatus.APPROVED, actor=actor, reason=reason, ip=ip, action="icp_filing.approve",
                   event="icp_filing.approved")


def reject_filing(filing: IcpFiling, *, actor, reason: str, ip: str | None = None) -> IcpFiling:
    """Staff refused the filing; the reason is kept for the customer."""
    return _decide(filing, FilingStatus.REJECTED, actor=actor, reason=reason, ip=ip, action="icp_filing.reject",
                   event="icp_filing.rejected")


def approved_filings(*, mainland_only: bool = True):
    """Approved filings (with their servers), for the edge's allow-list: only mainland regions need them."""
    filings = IcpFiling.objects.filter(status=FilingStatus.APPROVED).select_related("server")
    return filings.filter(server__region__is_mainland=True) if mainland_only else filings


# --- Disclosure register (5.2) ------------------------------------------------------------------------------


class DisclosureRefused(Exception):
    """The decision is not allowed (own request, or already decided); nothing changed."""


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def _disclosure_params(disclosure: Disclosure, **extra) -> dict:
    return {"legal_basis": disclosure.legal_basis, "requester": disclosure.requester,
            "reference": disclosure.request_reference, "categories": disclosure.categories, **extra}


def request_disclosure(disclosure: Disclosure, *, actor, ip: str | None = None) -> Disclosure:
    """Record a staff request to disclose a user's data (built unsaved from the console form), waiting for a
    second staff member's approval. Raises ValidationError (legal basis, requester, categories…); nothing is
    saved then."""
    disclosure.status = DisclosureStatus.REQUESTED
    disclosure.requested_by = actor
    disclosure.requested_at = clock.now()
    disclosure.full_clean()
    with transaction.atomic():
        disclosure.save()
        audit.record(actor=actor, owner=disclosure.subject, channel="staff", action="disclosure.request",
                     target=disclosure, params=_disclosure_params(disclosure, purpose=disclosure.purpose), ip=ip)
    return disclosure


def _refuse_unless_open(disclosure: Disclosure) -> None:
    if disclosure.status != DisclosureStatus.REQUESTED:
        raise DisclosureRefused(_("该披露申请已审批过，未重复处理。"))


def approve_disclosure(disclosure: Disclosure, *, actor, reason: str, ip: str | None = None) -> Disclosure:
    """A second staff member approves: the platform generates the export now, stores it encrypted and records its
    SHA-256. The requester can never approve their own request (four eyes)."""
    reason = _required_reason(reason, _("请填写审批意见。"))
    if disclosure.requested_by_id == actor.pk:
        raise DisclosureRefused(_("不能审批自己提出的披露申请，须由另一名工作人员审批。"))
    _refuse_unless_open(disclosure)
    content = disclosure_export.build(disclosure)
    digest = hashlib.sha256(content).hexdigest()
    stored = disclosure.export.storage.save(
        disclosure.export.field.generate_filename(disclosure, f"disclosure-{disclosure.pk}.json.enc"),
        encrypted_file(content))
    with transaction.atomic():
        decided = Disclosure.objects.filter(pk=disclosure.pk, status=DisclosureStatus.REQUESTED).update(
            status=DisclosureStatus.APPROVED, decided_by=actor, decided_at=clock.now(), decision_reason=reason,
            export=stored, export_sha256=digest)
        if decided:
            audit.record(actor=actor, owner=disclosure.subject, channel="staff", action="disclosure.approve",
                         target=disclosure, params=_disclosure_params(disclosure, reason=reason, sha256=digest),
                         ip=ip)
    if not decided:  # someone decided first: their outcome stands, this export never existed
        disclosure.export.storage.delete(stored)
        raise DisclosureRefused(_("该披露申请已审批过，未重复处理。"))
    disclosure.refresh_from_db()
    return disclosure


def reject_disclosure(disclosure: Disclosure, *, actor, reason: str, ip: str | None = None) -> Disclosure:
    """Staff refuse the request (no export is generated); the reason stays in the register."""
    reason = _required_reason(reason, _("驳回披露申请须填写原因。"))
    _refuse_unless_open(disclosure)
    with transaction.atomic():
        decided = Disclosure.objects.filter(pk=disclosure.pk, status=DisclosureStatus.REQUESTED).update(
            status=DisclosureStatus.REJECTED, decided_by=actor, decided_at=clock.now(), decision_reason=reason)
        if not decided:
            raise DisclosureRefused(_("该披露申请已审批过，未重复处理。"))
        audit.record(actor=actor, owner=disclosure.subject, channel="staff", action="disclosure.reject",
                     target=disclosure, params=_disclosure_params(disclosure, reason=reason), ip=ip)
    disclosure.refresh_from_db()
    return disclosure


def export_of(disclosure: Disclosure, *, staff, reason: str, ip: str | None = None) -> bytes:
    """The export's plain bytes, for the register's download only; each read is logged as a data access first."""
    if disclosure.status != DisclosureStatus.APPROVED:
        raise DisclosureRefused(_("该披露申请尚未批准，没有导出文件。"))
    audit.record_data_access(staff=staff, subject=disclosure.subject, field="disclosure_export",
                             reason=_required_reason(reason, _("请填写下载原因。")), target=disclosure, ip=ip)
    return decrypted_bytes(disclosure.export)


def export_own_data(user, *, factor: str, channel: str, ip: str | None = None) -> bytes:
    """The user's download of their own data (decision 0031): every category, identity number masked. The caller
    has passed step-up verification with `factor`; the download is recorded as the user's instruction."""
    content = disclosure_export.self_download(user)
    audit.record(actor=user, owner=user, channel=channel, action="account.data_export", target=user,
                 params={"factor": factor, "sha256": hashlib.sha256(content).hexdigest()}, ip=ip)
    return content
