"""Abuse cases (投诉与滥用处理): complaints in, owner told, escalating measures out (4.5.1, 4.5.2.2, 5.4.6).

- Anyone may complain through the public form (rate-limited per IP) and partners through the API; the target
  is resolved to the server and owner that held it when the abuse happened, and the reporter only ever learns
  the case number.
- Compliance or support staff triage a case, ask the owner to act by a deadline, and apply measures: warn,
  restrict account functions, unbind the public IP (blackhole), suspend the server, freeze funds (5.4.6) or
  terminate without refund. Each measure is an instruction with its reason, a CaseAction, and a notice to the
  owner. Measures apply only to triaged, waiting or actioned cases; termination needs a prior suspension
  unless the case is about illegal content; closing or rejecting needs a note.
- Detection rules open cases through `open_rule_case` and apply their configured measure as the system.
"""

import datetime as dt
import json
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.billing.freezes import FILE_SIGNATURES, Upload
from wuji.core import clock, roles
from wuji.core.private_files import decrypted_bytes, encrypted_file
from wuji.notifications.services import notify

from . import notices, resolution
from .choices import ActionKind, CaseCategory, CaseSource, CaseStatus, EvidenceKind
from .models import Case, CaseAction, CaseMessage, Complaint, Evidence

__all__ = ["CaseRefused", "Upload", "apply_action", "can_handle", "cases_of", "close_case", "open_rule_case",
           "post_message", "reply", "submit_complaint", "triage"]

ABUSE_ROLES = roles.roles_with(roles.HANDLE_ABUSE)  # compliance, support (wuji/core/roles.py)
MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TEXT = 5000
MAX_SAMPLES = 200
RULES = (CaseCategory.MINING, CaseCategory.ATTACK_SOURCE, CaseCategory.ATTACK_TARGET)
RULE_ACTIONS = ("none", ActionKind.WARN, ActionKind.SUSPEND, ActionKind.BLACKHOLE)


class CaseRefused(Exception):
    """A refusal for the person who asked; `field` names the input it concerns."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "case_refused"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


def can_handle(user) -> bool:
    """Compliance or support staff (Groups), or a superuser."""
    return roles.can(user, roles.HANDLE_ABUSE)


def upload_from(uploaded) -> Upload:
    if uploaded.size > MAX_FILE_BYTES:
        raise CaseRefused(_("单个文件不能超过 5 MB。"), field="files", code="file_too_large")
    return Upload(name=(uploaded.name or "file")[-200:], data=uploaded.read())


def _content_type(data: bytes) -> str | None:
    """JPEG, PNG, PDF by their signatures; plain UTF-8 text (mail headers, logs) when it decodes cleanly."""
    found = next((t for sig, t in FILE_SIGNATURES.items() if data.startswith(sig)), None)
    if found or b"\x00" in data:
        return found
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def _checked_files(files) -> list[tuple[Upload, str]]:
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise CaseRefused(_("最多上传 %(n)s 个文件。") % {"n": MAX_FILES}, field="files", code="too_many_files")
    checked = []
    for upload in files:
        if len(upload.data) > MAX_FILE_BYTES:
            raise CaseRefused(_("单个文件不能超过 5 MB。"), field="files", code="file_too_large")
        content_type = _content_type(upload.data) if upload.data else None
        if content_type is None:
            raise CaseRefused(_("只支持 JPEG、PNG、PDF 或纯文本文件。"), field="files", code="file_type")
        checked.append((upload, content_type))
    return checked


def _store_files(case: Case, kind: str, checked, *, message: CaseMessage | None = None) -> None:
    for upload, content_type in checked:
        row = Evidence(case=case, kind=kind, message=message, name=upload.name, content_type=content_type,
                       size=len(upload.data), added_at=clock.now())
        row.file.save("file.bin", encrypted_file(upload.data), save=False)
        row.save()


def file_content(row: Evidence) -> bytes:
    return decrypted_bytes(row.file)


def _text(value: str, *, field: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseRefused(missing, field=field, code="required")
    if len(value) > MAX_TEXT:
        raise CaseRefused(_("内容不能超过 %(n)s 字。") % {"n": MAX_TEXT}, field=field, code="too_long")
    return value


def _local(moment) -> str:
    return f"{timezone.localtime(moment, clock.SHANGHAI):%Y-%m-%d %H:%M}"


def _context(case: Case) -> dict:
    return {"number": case.number, "category": CaseCategory.label(case.category),
            "clause": CaseCategory.CLAUSE[case.category], "server": case.server.name if case.server else "",
            "link": reverse("abuse:case", args=[case.pk])}


def _new_case(**fields) -> Case:
    now = clock.now()
    case = Case.objects.create(number=f"tmp-{uuid.uuid4().hex[:12]}", created_at=now, **fields)
    case.number = f"AB{timezone.localtime(now, clock.SHANGHAI):%Y%m%d}{case.pk:05d}"
    case.save(update_fields=["number"])
    return case


# --- Queries ----------------------------------------------------------------------------------------------


def cases_of(user):
    """The owner's cases once staff or a rule have told them about it (untriaged complaints stay internal)."""
    return Case.objects.filter(owner=user, owner_informed_at__isnull=False).select_related("server")


def visible_messages(case: Case):
    return case.messages.filter(visible_to_owner=True).prefetch_related("attachments")


def owner_files(case: Case):
    """What the owner may download: their own reply attachments (never the reporter's evidence)."""
    return case.evidence.filter(kind=EvidenceKind.REPLY)


def can_reply(case: Case) -> bool:
    return case.is_open


# --- Complaints -------------------------------------------------------------------------------------------


def _rate_key(ip: str) -> str:
    return f"abuse:complaints:{ip}:{clock.now():%Y%m%d%H}"


def submit_complaint(*, category: str, target: str, description: str, reporter_email: str, reporter_name: str = "",
                     reporter_phone: str = "", occurred_at: dt.datetime | None = None, files=(),
                     ip: str | None, channel: str, partner=None) -> Case:
    """File a complaint (投诉). The target is resolved at `occurred_at` (default: now). Partners are not
    rate-limited; the public form is, per client IP and hour (WUJI_ABUSE_COMPLAINTS_PER_HOUR)."""
    if partner is None and ip and cache.get(_rate_key(ip), 0) >= settings.WUJI_ABUSE_COMPLAINTS_PER_HOUR:
        raise CaseRefused(_("提交过于频繁，请一小时后再试。"), code="rate_limited")
    if category not in CaseCategory.values():
        raise CaseRefused(_("请选择投诉类别。"), field="category", code="invalid")
    description = _text(description, field="description", missing=_("请填写投诉说明。"))
    reporter_email = (reporter_email or "").strip()
    try:
        validate_email(reporter_email)
    except ValidationError:
        raise CaseRefused(_("请填写有效的联系邮箱，以便我们联系您。"), field="reporter_email", code="invalid") from None
    now = clock.now()
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise CaseRefused(_("发生时间不能晚于现在。"), field="occurred_at", code="invalid")
    try:
        found = resolution.resolve(target, at=occurred_at)
    except ValidationError as exc:
        raise CaseRefused(exc.messages[0], field="target", code="invalid_target") from None
    checked = _checked_files(files)
    with transaction.atomic():
        case = _new_case(source=CaseSource.COMPLAINT, category=category, target=found.text,
                         target_kind=found.kind, occurred_at=occurred_at, server=found.server, owner=found.owner)
        Complaint.objects.create(case=case, reporter_name=(reporter_name or "").strip()[:100],
                                 reporter_email=reporter_email, reporter_phone=(reporter_phone or "").strip()[:32],
                                 description=description, submitted_ip=ip, partner=partner, submitted_at=now)
        _store_files(case, EvidenceKind.COMPLAINT, checked)
        # Not the owner's instruction: owner stays empty so an untriaged complaint is not in their log.
        audit.record(actor=None, owner=None, channel=channel, action="abuse.complaint", target=case, ip=ip,
                     params={"number": case.number, "category": category, "target_kind": found.kind,
                             "resolved": found.server is not None, "files": len(checked),
                             "partner": partner.name if partner else ""})
    if partner is None and ip:
        cache.add(_rate_key(ip), 0, timeout=3600)
        cache.incr(_rate_key(ip))
    return case


# --- Staff ------------------------------------------------------------------------------------------------


def _require_staff(staff) -> None:
    if not can_handle(staff):
        raise CaseRefused(_("只有合规或客服人员可以处理滥用案件。"), code="not_abuse_staff")


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("server", "owner").get(pk=case.pk)


def triage(case: Case, *, staff, summary: str = "", ip: str | None = None) -> Case:
    """Accept a new case into the queue (分拣), optionally with a summary for colleagues."""
    _require_staff(staff)
    with transaction.atomic():
        case = _locked(case)
        if case.status != CaseStatus.NEW:
            raise CaseRefused(_("只有新建的案件可以分拣。"), code="not_new")
        case.status = CaseStatus.TRIAGED
        case.summary = (summary or case.summary).strip()
        case.save(update_fields=["status", "summary"])
        audit.record(actor=staff, owner=None, channel=Channel.STAFF, action="abuse.triage", target=case, ip=ip,
                     params={"number": case.number})
    return case


def default_deadline_hours(category: str) -> int:
    if category in CaseCategory.URGENT:
        return settings.WUJI_ABUSE_URGENT_DEADLINE_HOURS
    return settings.WUJI_ABUSE_OWNER_DEADLINE_HOURS


def apply_action(case: Case, *, kind: str, staff, reason: str, ip: str | None = None, channel: str = Channel.STAFF,
                 text: str = "", hours: int | None = None, functions=(), amount_fen: int | None = None,
                 outcome: str | None = None) -> CaseAction:
    """Apply one measure to the case's owner or server (4.5.2.2) and tell the owner. `staff` None is the
    system (a detection rule). Options: `text`/`hours` for notify, `hours` for blackhole, `functions` for
    restrict, `amount_fen`/`outcome` for freeze. Nothing is written when it is refused."""
    if staff is not None:
        _require_staff(staff)
    if kind not in ActionKind.values():
        raise CaseRefused(_("未知的处置措施。"), field="kind", code="invalid")
    reason = _text(reason, field="reason", missing=_("请填写采取措施的原因，它会告知客户。"))[:1000]
    with transaction.atomic():
        case = _locked(case)
        if case.status not in CaseStatus.ACTIONABLE:
            raise CaseRefused(_("案件状态为“%(status)s”，只有已分拣、等待客户处理或已采取措施的案件可以采取措施。") % {
                "status": CaseStatus.label(case.status)}, code="not_actionable")
        if case.owner is None:
            raise CaseRefused(_("该案件未关联到服务器和客户，不能采取措施。"), code="unresolved")
        if kind == ActionKind.TERMINATE and case.category not in CaseCategory.LEGAL and not case.actions.filter(
                kind=ActionKind.SUSPEND).exists():
            raise CaseRefused(_("终止服务前须先暂停服务器（违法违规内容案件除外）。"), code="suspend_first")
        now = clock.now()
        params = {"number": case.number, "reason": reason, "server": case.server_id}
        if kind == ActionKind.TERMINATE:
            params.update(refund="none", clause="4.5.2.2")
        instruction = audit.record(actor=staff, owner=case.owner, channel=channel, action=f"abuse.{kind}",
                                   target=case, params=params, ip=ip)
        result = _perform(case, kind=kind, staff=staff, reason=reason, ip=ip, channel=channel, text=text,
                          hours=hours, functions=functions, amount_fen=amount_fen, outcome=outcome)
        action = CaseAction.objects.create(case=case, kind=kind, reason=reason, staff=staff if staff else None,
                                           instruction=instruction, result=result[:500], created_at=now)
        case.owner_informed_at = case.owner_informed_at or now
        if kind == ActionKind.NOTIFY:
            case.status = CaseStatus.WAITING
            notify(case.owner, notices.OWNER_ASKED.code, {**_context(case), "text": text or reason,
                                                          "deadline": _local(case.owner_deadline)})
        else:
            case.status = CaseStatus.ACTIONED
            notify(case.owner, notices.ACTION_TAKEN.code, {
                **_context(case), "action": ActionKind.label(kind), "reason": reason,
                "server": case.server.name if kind in ActionKind.NEEDS_SERVER else "",
                "no_refund": kind == ActionKind.TERMINATE})
        case.save(update_fields=["status", "owner_deadline", "owner_informed_at"])
    return action


def _perform(case: Case, *, kind: str, staff, reason: str, ip, channel, text, hours, functions, amount_fen,
             outcome) -> str:
    """Carry out the measure through the service that owns it; a refusal there becomes a CaseRefused."""
    from wuji.compute import services as compute
    from wuji.compute.choices import SuspensionReason
    from wuji.network import services as network

    server, owner = case.server, case.owner
    detail = _("滥用案件 %(number)s：%(reason)s") % {"number": case.number, "reason": reason}
    if kind == ActionKind.NOTIFY:
        hours = hours or default_deadline_hours(case.category)
        if hours <= 0:
            raise CaseRefused(_("处理期限必须大于 0 小时。"), field="hours", code="invalid")
        case.owner_deadline = clock.now() + dt.timedelta(hours=hours)
        CaseMessage.objects.create(case=case, author=staff, text=text or reason, created_at=clock.now())
        return _("已通知客户，期限 %(deadline)s") % {"deadline": _local(case.owner_deadline)}
    if kind == ActionKind.WARN:
        CaseMessage.objects.create(case=case, author=staff, text=reason, created_at=clock.now())
        return _("已警告客户")
    if kind == ActionKind.SUSPEND:
        why = SuspensionReason.LEGAL if case.category in CaseCategory.LEGAL else SuspensionReason.ABUSE
        if not compute.suspend(server, reason=why, actor=staff, channel=channel, detail=detail, ip=ip):
            raise CaseRefused(_("服务器已暂停或有操作正在进行，暂不能暂停。"), code="suspend_refused")
        return _("服务器已暂停（付款不会解除）")
    if kind == ActionKind.BLACKHOLE:
        duration = dt.timedelta(hours=hours) if hours else None
        try:
            hole = network.blackhole(server, duration=duration, reason=detail, actor=staff, channel=channel, ip=ip)
        except ValidationError as exc:
            raise CaseRefused(exc.messages[0], field="hours", code="invalid") from None
        except compute.OperationRefused as exc:
            raise CaseRefused(str(exc), code="blackhole_refused") from None
        return _("公网 IP 已解绑，预计 %(until)s 恢复") % {"until": _local(hole.ends_at)}
    if kind == ActionKind.FREEZE:
        from wuji.billing import freezes
        from wuji.billing.choices import FreezeOutcome, FreezeReason

        ground = FreezeReason.COMPLAINT if case.source == CaseSource.COMPLAINT else FreezeReason.ILLEGAL_USE
        try:
            freeze = freezes.freeze_funds(customer=owner, staff=staff, reason=ground,
                                          outcome=outcome or FreezeOutcome.LONG_TERM, amount_fen=amount_fen,
                                          note=reason[:500], evidence=detail, ip=ip)
        except freezes.FreezeRefused as exc:
            raise CaseRefused(exc.message, field=exc.field, code=exc.code) from None
        return _("资金冻结 #%(pk)s") % {"pk": freeze.pk}
    if kind == ActionKind.RESTRICT:
        from wuji.accounts import restrictions
        from wuji.accounts.choices import RestrictedFunction

        functions = list(functions or [])
        if not functions:
            raise CaseRefused(_("请选择要限制的账户功能。"), field="functions", code="required")
        try:
            restrictions.restrict(user=owner, functions=functions, reason=detail, actor=staff, ip=ip)
        except restrictions.RestrictionError as exc:
            raise CaseRefused(exc.message, field="functions", code=exc.code) from None
        return _("已限制账户功能：%(f)s") % {"f": "、".join(str(RestrictedFunction.label(f)) for f in functions)}
    # TERMINATE: the server and its disk are destroyed; no refund is due (4.5.1, 4.5.2.2).
    if not compute.release(server, actor=staff, channel=channel, reason=detail, ip=ip):
        raise CaseRefused(_("服务器已释放或有操作正在进行，暂不能终止。"), code="terminate_refused")
    return _("服务已终止，依据协议第 4.5.2.2 条不予退款")


def post_message(case: Case, *, staff, text: str, visible_to_owner: bool = True, ip: str | None = None) -> CaseMessage:
    """A staff message in the case thread (visible to the owner) or an internal note."""
    _require_staff(staff)
    text = _text(text, field="text", missing=_("请填写消息内容。"))
    with transaction.atomic():
        case = _locked(case)
        if visible_to_owner and (case.owner is None or case.owner_informed_at is None):
            raise CaseRefused(_("客户尚未被通知，请先通过“通知客户限期处理”联系客户。"), code="owner_not_informed")
        message = CaseMessage.objects.create(case=case, author=staff, text=text, visible_to_owner=visible_to_owner,
                                             created_at=clock.now())
        audit.record(actor=staff, owner=case.owner if visible_to_owner else None, channel=Channel.STAFF,
                     action="abuse.message", target=case, ip=ip,
                     params={"number": case.number, "visible_to_owner": visible_to_owner})
        if visible_to_owner:
            notify(case.owner, notices.STAFF_MESSAGE.code, {**_context(case), "text": text})
    return message


def close_case(case: Case, *, staff, note: str, reject: bool = False, ip: str | None = None) -> Case:
    """Close (结案) or reject (驳回) an open case; a note is required. The owner is told if they knew of it."""
    _require_staff(staff)
    note = _text(note, field="note", missing=_("请填写结案说明。"))[:1000]
    with transaction.atomic():
        case = _locked(case)
        if not case.is_open:
            raise CaseRefused(_("案件已结案或已驳回。"), code="not_open")
        case.status = CaseStatus.REJECTED if reject else CaseStatus.CLOSED
        case.close_note, case.closed_at = note, clock.now()
        case.save(update_fields=["status", "close_note", "closed_at"])
        told = case.owner_informed_at is not None
        audit.record(actor=staff, owner=case.owner if told else None, channel=Channel.STAFF,
                     action="abuse.reject" if reject else "abuse.close", target=case, ip=ip,
                     params={"number": case.number, "note": note})
        if told:
            notify(case.owner, notices.CASE_CLOSED.code, {**_context(case), "note": note})
    return case


# --- Owner ------------------------------------------------------------------------------------------------


def reply(case: Case, *, owner, text: str, files=(), channel: str, ip: str | None = None) -> CaseMessage:
    """The owner's answer in the thread, with attachments, while the case is open."""
    if case.owner_id != owner.pk or case.owner_informed_at is None:
        raise Case.DoesNotExist  # not theirs: callers already scoped the lookup; never reveal it
    text = _text(text, field="text", missing=_("请填写回复内容。"))
    checked = _checked_files(files)
    with transaction.atomic():
        case = _locked(case)
        if not case.is_open:
            raise CaseRefused(_("案件已结案，不能再回复。"), code="not_open")
        message = CaseMessage.objects.create(case=case, author=owner, from_owner=True, text=text,
                                             created_at=clock.now())
        _store_files(case, EvidenceKind.REPLY, checked, message=message)
        audit.record(actor=owner, owner=owner, channel=channel, action="abuse.reply", target=case, ip=ip,
                     params={"number": case.number, "files": len(checked)})
    return message


# --- Detection rules --------------------------------------------------------------------------------------


def _samples(evidence) -> list:
    samples = list(evidence or [])[:MAX_SAMPLES]
    try:
        return json.loads(json.dumps(samples))
    except (TypeError, ValueError):
        raise CaseRefused(_("检测样本必须是 JSON 数据。"), field="evidence", code="invalid") from None


def open_rule_case(signal) -> Case:
    """Open a case for a rule's signal (`rule`, `server_id`, `summary`, `evidence`, `action`), or add the
    evidence to the open case of the same server and rule; then apply the configured measure as the system,
    unless this case already had it. A measure that cannot be applied (e.g. the server is already
    suspended) is noted on the case for staff instead of losing the case."""
    from wuji.compute.models import Server
    from wuji.network import services as network

    if signal.rule not in RULES:
        raise CaseRefused(f"unknown abuse rule {signal.rule!r}", code="invalid")
    if signal.action not in RULE_ACTIONS:
        raise CaseRefused(f"unknown rule action {signal.action!r}", code="invalid")
    samples = _samples(signal.evidence)
    with transaction.atomic():
        server = Server.objects.select_related("owner").get(pk=signal.server_id)
        case = Case.objects.select_for_update().filter(server=server, rule=signal.rule,
                                                       status__in=CaseStatus.OPEN).first()
        if case is None:
            case = _new_case(source=CaseSource.RULE, category=signal.rule, rule=signal.rule,
                             target=network.address_of(server) or "", target_kind="ip", occurred_at=clock.now(),
                             server=server, owner=server.owner, status=CaseStatus.TRIAGED,
                             summary=(signal.summary or "")[:MAX_TEXT])
        Evidence.objects.create(case=case, kind=EvidenceKind.RULE, samples=samples, name=signal.rule,
                                added_at=clock.now())
        audit.record(actor=None, owner=None, channel=Channel.SYSTEM, action="abuse.rule_signal", target=case,
                     params={"number": case.number, "rule": signal.rule, "samples": len(samples),
                             "action": signal.action})
        if signal.action != "none" and not case.actions.filter(kind=signal.action).exists():
            try:
                with transaction.atomic():
                    apply_action(case, kind=signal.action, staff=None, reason=signal.summary or signal.rule,
                                 channel=Channel.SYSTEM)
            except CaseRefused as exc:
                CaseMessage.objects.create(case=case, text=_("规则措施未能执行：%(m)s") % {"m": exc.message},
                                           visible_to_owner=False, created_at=clock.now())
        case.refresh_from_db()
    return case


# --- Partner feeds ----------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def issue_partner_token(feed, *, staff, ip: str | None = None) -> str:
    """A new bearer token for a partner feed (replacing any earlier one); shown once, only its hash is kept."""
    import secrets

    from .models import PartnerFeed

    _require_staff(staff)
    token = f"wpf_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        feed.token_hash = _token_hash(token)
        if feed.pk is None:
            feed.created_at, feed.created_by = clock.now(), staff
            feed.save()
        else:
            PartnerFeed.objects.filter(pk=feed.pk).update(token_hash=feed.token_hash)
        audit.record(actor=staff, owner=None, channel=Channel.STAFF, action="abuse.partner_token", target=feed,
                     params={"name": feed.name}, ip=ip)
    return token


def partner_for(token: str):
    """The active partner feed holding this token, or None."""
    from .models import PartnerFeed

    if not token:
        return None
    feed = PartnerFeed.objects.filter(token_hash=_token_hash(token), is_active=True).first()
    if feed is not None:
        PartnerFeed.objects.filter(pk=feed.pk).update(last_used_at=clock.now())
    return feed
