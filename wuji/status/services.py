"""Announcements, maintenance windows and incidents (clauses 4.1 and 7): the only writers of this app's models
besides `sla.py`. Decision 0038 records the choices."""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.compute.choices import VmState
from wuji.compute.models import Server
from wuji.core import clock, roles
from wuji.notifications import services as notifications

from . import notices
from .choices import IncidentStatus, MaintenanceImpact, MaintenanceNoticeKind, MaintenanceState
from .models import Announcement, Incident, IncidentUpdate, MaintenanceNotice, MaintenanceWindow

STAFF_ROLES = roles.roles_with(roles.ANNOUNCE_STATUS)  # operations, support (wuji/core/roles.py)


class StatusRefused(Exception):
    """A staff request that cannot be carried out as asked; the message says why and nothing was written."""


def can_operate(user) -> bool:
    """Operations or support staff (Groups), or a superuser: they announce, schedule and report incidents."""
    return roles.can(user, roles.ANNOUNCE_STATUS)


def _require_staff(actor) -> None:
    if not can_operate(actor):
        raise StatusRefused(_("只有运维或客服人员可以发布公告、维护和故障信息。"))


def beijing(moment: dt.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(clock.SHANGHAI).strftime(fmt)


def window_text(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    same_day = starts_at.astimezone(clock.SHANGHAI).date() == ends_at.astimezone(clock.SHANGHAI).date()
    return f"{beijing(starts_at)} – {beijing(ends_at, '%H:%M' if same_day else '%Y-%m-%d %H:%M')}"


# --- Announcements (公告) -------------------------------------------------------------------------------


def save_announcement(announcement: Announcement, *, actor, ip: str | None = None) -> Announcement:
    _require_staff(actor)
    if not announcement.title.strip():
        raise StatusRefused(_("请填写公告标题。"))
    with transaction.atomic():
        created = announcement.pk is None
        if created:
            announcement.created_by, announcement.created_at = actor, clock.now()
        announcement.full_clean()
        announcement.save()
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=announcement,
                     action="announcement.publish" if created else "announcement.change",
                     params={"title": announcement.title, "level": announcement.level,
                             "from": announcement.published_from.isoformat(),
                             "until": announcement.published_until.isoformat() if announcement.published_until
                             else None})
    return announcement


def current_announcements(now: dt.datetime | None = None):
    now = now or clock.now()
    return (Announcement.objects.filter(published_from__lte=now)
            .filter(Q(published_until__isnull=True) | Q(published_until__gt=now)))


def published_announcements(now: dt.datetime | None = None):
    """What the public list shows: everything already published, current first (ended ones stay readable)."""
    return Announcement.objects.filter(published_from__lte=now or clock.now())


# --- Maintenance windows (维护窗口, 7.1) -----------------------------------------------------------------


def minimum_notice(impact: str) -> dt.timedelta:
    return dt.timedelta(hours=settings.WUJI_MAINTENANCE_NOTICE_HOURS[impact])


def affected_servers(window: MaintenanceWindow):
    """Live servers (not released) on the window's nodes, or in its region when it names no nodes."""
    servers = Server.objects.exclude(vm_state=VmState.RELEASED).filter(node__isnull=False)
    node_ids = [n.pk for n in window.nodes.all()]
    if node_ids:
        servers = servers.filter(node_id__in=node_ids)
    elif window.region_id:
        servers = servers.filter(node__region_id=window.region_id)
    else:
        return servers.none()
    return servers.order_by("owner_id", "pk")


def save_window(window: MaintenanceWindow, *, actor, ip: str | None = None) -> MaintenanceWindow:
    """Create or change a draft window (nobody is told yet); its nodes are set by the caller afterwards."""
    _require_staff(actor)
    if window.pk and MaintenanceWindow.objects.filter(pk=window.pk).exclude(state=MaintenanceState.DRAFT).exists():
        raise StatusRefused(_("已发布的维护只能延长或取消，不能修改。"))
    with transaction.atomic():
        created = window.pk is None
        if created:
            window.created_by, window.created_at, window.state = actor, clock.now(), MaintenanceState.DRAFT
        window.full_clean(exclude=["nodes"])
        window.save()
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=window,
                     action="maintenance.draft" if created else "maintenance.change",
                     params={"title": window.title, "starts_at": window.starts_at.isoformat(),
                             "ends_at": window.ends_at.isoformat(), "impact": window.impact})
    return window


def _check_publishable(window: MaintenanceWindow, now: dt.datetime) -> None:
    if window.state != MaintenanceState.DRAFT:
        raise StatusRefused(_("只能发布草稿状态的维护。"))
    nodes = list(window.nodes.all())
    if not nodes and not window.region_id:
        raise StatusRefused(_("请选择维护的地域或宿主机。"))
    if window.region_id and any(n.region_id != window.region_id for n in nodes):
        raise StatusRefused(_("所选宿主机不在所选地域内。"))
    if window.ends_at <= now:
        raise StatusRefused(_("维护结束时间已过，不能发布。"))
    if window.emergency:
        if not window.emergency_reason.strip():
            raise StatusRefused(_("紧急维护须填写紧急原因。"))
        return
    lead = minimum_notice(window.impact)
    if window.starts_at - now < lead:
        earliest = now + lead
        raise StatusRefused(
            _("计划内维护（%(impact)s）须至少提前 %(hours)s 小时通知客户：最早可安排在 %(earliest)s（北京时间）开始；"
              "确需立即进行请标记为紧急维护并填写原因。") % {
                "impact": MaintenanceImpact.label(window.impact), "hours": int(lead.total_seconds() // 3600),
                "earliest": beijing(earliest)})


def publish_window(window: MaintenanceWindow, *, actor, ip: str | None = None) -> MaintenanceWindow:
    """Publish a draft: it shows on the status page and the affected servers' pages, and every owner of an
    affected server is told (a task, in batches, once per owner). Raises StatusRefused for a notice shorter
    than the impact's minimum unless the window is an emergency with a reason."""
    _require_staff(actor)
    from . import tasks

    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        now = clock.now()
        _check_publishable(window, now)
        window.state, window.published_at = MaintenanceState.PUBLISHED, now
        window.save(update_fields=["state", "published_at"])
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=window, action="maintenance.publish",
                     params={"title": window.title, "starts_at": window.starts_at.isoformat(),
                             "ends_at": window.ends_at.isoformat(), "impact": window.impact,
                             "emergency": window.emergency, "emergency_reason": window.emergency_reason,
                             "lead_hours": round((window.starts_at - now).total_seconds() / 3600, 1)})
        tasks.notify_window.enqueue(window_id=window.pk, kind=MaintenanceNoticeKind.SCHEDULED,
                                    ends_at=window.ends_at.isoformat())
    return window


def extend_window(window: MaintenanceWindow, *, ends_at: dt.datetime, reason: str, actor,
                  ip: str | None = None) -> MaintenanceWindow:
    """Move a published window's end later, before it ends; every affected owner is told."""
    _require_staff(actor)
    from . import tasks

    reason = (reason or "").strip()
    if not reason:
        raise StatusRefused(_("请填写延长原因，它会告知客户。"))
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        if window.state != MaintenanceState.PUBLISHED:
            raise StatusRefused(_("只能延长已发布的维护。"))
        if window.ends_at <= clock.now():
            raise StatusRefused(_("维护已结束，不能延长；请发布新的维护。"))
        if ends_at <= window.ends_at:
            raise StatusRefused(_("新的结束时间必须晚于原结束时间 %(end)s。") % {"end": beijing(window.ends_at)})
        before = window.ends_at
        window.ends_at = ends_at
        window.save(update_fields=["ends_at"])
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=window, action="maintenance.extend",
                     params={"from": before.isoformat(), "to": ends_at.isoformat(), "reason": reason})
        tasks.notify_window.enqueue(window_id=window.pk, kind=MaintenanceNoticeKind.EXTENDED,
                                    ends_at=ends_at.isoformat(), reason=reason)
    return window


def cancel_window(window: MaintenanceWindow, *, reason: str, actor, ip: str | None = None) -> MaintenanceWindow:
    """Cancel a published window that has not ended; everyone who was told about it is told it is off."""
    _require_staff(actor)
    from . import tasks

    reason = (reason or "").strip()
    if not reason:
        raise StatusRefused(_("请填写取消原因，它会告知客户。"))
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        if window.state != MaintenanceState.PUBLISHED:
            raise StatusRefused(_("只能取消已发布的维护。"))
        if window.ends_at <= clock.now():
            raise StatusRefused(_("维护已结束，不能取消。"))
        window.state, window.cancelled_at, window.cancel_reason = MaintenanceState.CANCELLED, clock.now(), reason
        window.save(update_fields=["state", "cancelled_at", "cancel_reason"])
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=window, action="maintenance.cancel",
                     params={"reason": reason})
        tasks.notify_window.enqueue(window_id=window.pk, kind=MaintenanceNoticeKind.CANCELLED,
                                    ends_at=window.ends_at.isoformat(), reason=reason)
    return window


_EVENTS = {
    MaintenanceNoticeKind.SCHEDULED: notices.MAINTENANCE_SCHEDULED.code,
    MaintenanceNoticeKind.EXTENDED: notices.MAINTENANCE_EXTENDED.code,
    MaintenanceNoticeKind.CANCELLED: notices.MAINTENANCE_CANCELLED.code,
}


def recipients(window: MaintenanceWindow, kind: str) -> dict[int, list[str]]:
    """Owner id → names of their affected servers. A cancellation goes to those who were told of the window."""
    if kind == MaintenanceNoticeKind.CANCELLED:
        told = MaintenanceNotice.objects.filter(window=window, kind=MaintenanceNoticeKind.SCHEDULED)
        return {owner_id: [] for owner_id in told.order_by("recipient_id").values_list("recipient_id", flat=True)}
    by_owner: dict[int, list[str]] = {}
    for owner_id, name in affected_servers(window).values_list("owner_id", "name"):
        by_owner.setdefault(owner_id, []).append(name)
    return by_owner


def notify_owner(window: MaintenanceWindow, *, recipient, kind: str, ends_at: dt.datetime, servers: list[str],
                 reason: str = "") -> bool:
    """Tell one owner about one window event unless they were told already. Returns whether a notice went.
    Two workers racing on one owner: the unique row fails for the second, whose notice rolls back with it."""
    try:
        return _notify_owner_once(window, recipient=recipient, kind=kind, ends_at=ends_at, servers=servers,
                                  reason=reason)
    except IntegrityError:
        return False


def _notify_owner_once(window, *, recipient, kind, ends_at, servers, reason) -> bool:
    with transaction.atomic():
        if MaintenanceNotice.objects.filter(window=window, recipient=recipient, kind=kind, ends_at=ends_at).exists():
            return False
        english = (getattr(recipient, "language", "") or "").startswith("en")
        with translation.override("en" if english else "zh-hans"):
            impact = str(MaintenanceImpact.label(window.impact))
        notice = notifications.notify(recipient, _EVENTS[kind], {
            "title": window.title, "window": window_text(window.starts_at, ends_at), "ends": beijing(ends_at),
            "impact": impact, "description": window.description, "servers": ", ".join(servers),
            "reason": reason or (window.emergency_reason if window.emergency else ""),
        })
        MaintenanceNotice.objects.create(window=window, recipient=recipient, kind=kind, ends_at=ends_at,
                                         notice=notice, created_at=clock.now())
    return True


def windows_for_server(server: Server, now: dt.datetime | None = None) -> list[MaintenanceWindow]:
    """Published windows that have not ended and touch this server's node (or its region, for windows that
    name no nodes). The caller has already checked that the server is the viewer's own."""
    if server.node_id is None or server.vm_state == VmState.RELEASED:
        return []
    now = now or clock.now()
    return list(MaintenanceWindow.objects
                .filter(state=MaintenanceState.PUBLISHED, ends_at__gt=now)
                .filter(Q(nodes=server.node_id) | Q(nodes__isnull=True, region_id=server.node.region_id))
                .distinct().order_by("starts_at"))


def public_windows(now: dt.datetime | None = None):
    """Published windows that have not ended: ongoing and upcoming, soonest first."""
    return (MaintenanceWindow.objects.filter(state=MaintenanceState.PUBLISHED, ends_at__gt=now or clock.now())
            .select_related("region").prefetch_related("nodes__region").order_by("starts_at"))


# --- Incidents (故障, 7.2–7.4) ---------------------------------------------------------------------------


def open_incident(incident: Incident, *, message: str, actor, ip: str | None = None) -> Incident:
    """Report an incident with its first update (status investigating unless given)."""
    _require_staff(actor)
    message = (message or "").strip()
    if not message:
        raise StatusRefused(_("请填写故障说明，它会显示在状态页上。"))
    with transaction.atomic():
        now = clock.now()
        incident.created_by, incident.created_at = actor, now
        incident.started_at = incident.started_at or now
        if incident.started_at > now:
            raise StatusRefused(_("故障开始时间不能晚于现在。"))
        if incident.status == IncidentStatus.RESOLVED:
            raise StatusRefused(_("新故障不能直接标记为已解决；请先发布，再发布“已解决”进展。"))
        incident.resolved_at = None
        incident.full_clean(exclude=["nodes"])
        incident.save()
        IncidentUpdate.objects.create(incident=incident, status=incident.status, message=message,
                                      created_by=actor, created_at=now)
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=incident, action="incident.open",
                     params={"title": incident.title, "region": incident.region.code,
                             "started_at": incident.started_at.isoformat(), "status": incident.status})
    return incident


def post_update(incident: Incident, *, status: str, message: str, actor, ip: str | None = None) -> IncidentUpdate:
    """Add a progress update; `resolved` closes the incident at this moment (the end of the downtime)."""
    _require_staff(actor)
    message = (message or "").strip()
    if not message:
        raise StatusRefused(_("请填写进展说明。"))
    if status not in IncidentStatus.values():
        raise StatusRefused(_("未知的故障状态。"))
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == IncidentStatus.RESOLVED:
            raise StatusRefused(_("故障已解决，不能再发布进展。"))
        now = clock.now()
        update = IncidentUpdate.objects.create(incident=incident, status=status, message=message, created_by=actor,
                                               created_at=now)
        incident.status = status
        if status == IncidentStatus.RESOLVED:
            incident.resolved_at = now
        incident.save(update_fields=["status", "resolved_at"])
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=incident, action="incident.update",
                     params={"status": status})
    return update


def status_overview(now: dt.datetime | None = None, *, past_days: int = 30) -> dict:
    """What /status/ and /status.json show: open incidents, incidents resolved in the last `past_days`,
    and ongoing or upcoming maintenance."""
    now = now or clock.now()
    incidents = (Incident.objects.select_related("region").prefetch_related("updates", "nodes")
                 .order_by("-started_at", "-pk"))
    return {
        "open": list(incidents.filter(status__in=IncidentStatus.OPEN)),
        "past": list(incidents.filter(status=IncidentStatus.RESOLVED,
                                      resolved_at__gte=now - dt.timedelta(days=past_days))),
        "maintenance": list(public_windows(now)),
        "now": now,
    }
