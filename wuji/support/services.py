"""Support tickets (工单, clause 4.1): the only writer of tickets, their messages and attachments.

Customers open tickets, reply, close, reopen (within WUJI_TICKET_REOPEN_DAYS of resolution or closing) and rate
(once, after resolution). Staff of the category's role (a Django group; superusers: all) take a ticket, reply,
write internal notes, and change status, priority or category. Resolved tickets close themselves after
WUJI_TICKET_AUTOCLOSE_DAYS (`close_resolved_tickets`, a periodic job). Every step writes an instruction; the
customer is told of staff replies and of status changes made by staff or the system (3.6); the assignee is
told, by in-site message, when the customer replies or reopens.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.compute import services as compute
from wuji.core import clock, roles, uploads
from wuji.core.private_files import decrypted_bytes, encrypted_file
from wuji.notifications.services import notify

from . import notices
from .choices import TicketCategory, TicketPriority, TicketStatus
from .models import Ticket, TicketAttachment, TicketMessage

ROLES = roles.ROLES  # each category is answered by one of them (TicketCategory.ROLE)
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_BODY = 10000
MAX_SUBJECT = 200
MAX_COMMENT = 1000


class TicketRefused(Exception):
    """A refusal for the person who asked; `field` names the input it concerns."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "ticket_refused"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


# --- Files ------------------------------------------------------------------------------------------------


def upload_from(uploaded) -> uploads.Upload:
    try:
        return uploads.read_upload(uploaded, max_bytes=MAX_FILE_BYTES)
    except uploads.UploadRefused as exc:
        raise TicketRefused(exc.message, field="files", code=exc.code) from exc


def _checked(files) -> list[uploads.CheckedUpload]:
    try:
        return uploads.check_uploads(files, limit=MAX_FILES, max_bytes=MAX_FILE_BYTES)
    except uploads.UploadRefused as exc:
        raise TicketRefused(exc.message, field="files", code=exc.code) from exc


def _store(message: TicketMessage, checked) -> None:
    for upload in checked:
        row = TicketAttachment(ticket_id=message.ticket_id, message=message, name=upload.name,
                               content_type=upload.content_type, size=len(upload.data), uploaded_at=clock.now())
        row.file.save("file.bin", encrypted_file(upload.data), save=False)
        row.save()


def attachment_content(attachment: TicketAttachment) -> bytes:
    return decrypted_bytes(attachment.file)


# --- Who sees what ----------------------------------------------------------------------------------------


def roles_of(user) -> set[str]:
    return roles.roles_of(user)


def is_support_staff(user) -> bool:
    return bool(roles_of(user))


def can_handle(user, ticket: Ticket) -> bool:
    return TicketCategory.ROLE[ticket.category] in roles_of(user)


def queue_for(user):
    """The tickets of the categories the staff member's roles answer (superusers: every ticket)."""
    return Ticket.objects.filter(category__in=TicketCategory.of_roles(roles_of(user))).select_related(
        "customer", "assignee", "server")


def tickets_of(customer):
    return Ticket.objects.filter(customer=customer).select_related("server")


def customer_messages(ticket: Ticket):
    """The thread as the customer sees it: never staff internal notes."""
    return ticket.messages.filter(internal=False).select_related("author").prefetch_related("attachments")


def customer_attachments(ticket: Ticket):
    return TicketAttachment.objects.filter(ticket=ticket, message__internal=False)


def _reopen_deadline(ticket: Ticket) -> dt.datetime | None:
    since = ticket.resolved_at or ticket.closed_at
    return since + dt.timedelta(days=settings.WUJI_TICKET_REOPEN_DAYS) if since else None


def can_reopen(ticket: Ticket) -> bool:
    deadline = _reopen_deadline(ticket)
    return ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and deadline is not None and (
        clock.now() <= deadline)


def can_rate(ticket: Ticket) -> bool:
    return ticket.resolved_at is not None and ticket.rating is None


def can_reply(ticket: Ticket) -> bool:
    return ticket.status in TicketStatus.ACTIVE or (ticket.status == TicketStatus.RESOLVED and can_reopen(ticket))


# --- Shared steps -----------------------------------------------------------------------------------------


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("customer", "assignee").get(pk=ticket.pk)


def _text(value: str, *, field: str, limit: int, empty_message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise TicketRefused(empty_message, field=field, code="invalid")
    if len(value) > limit:
        raise TicketRefused(_("内容不能超过 %(n)s 字。") % {"n": limit}, field=field, code="too_long")
    return value


def _context(ticket: Ticket, **extra) -> dict:
    return {"number": ticket.pk, "subject": ticket.subject, "link": reverse("portal:ticket", args=[ticket.pk]),
            "status": TicketStatus.label(ticket.status), **extra}


def _tell_assignee(ticket: Ticket, *, reopened: bool) -> None:
    if ticket.assignee_id and ticket.assignee.is_active:
        notify(ticket.assignee, notices.CUSTOMER_REPLIED.code, {
            "number": ticket.pk, "subject": ticket.subject, "reopened": reopened,
            "link": reverse("admin:support_ticket_change", args=[ticket.pk])})


def _set_status(ticket: Ticket, status: str, now: dt.datetime) -> None:
    """The status and the timestamps that go with it (the caller saves)."""
    ticket.status = status
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at, ticket.closed_at = now, None
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
    else:
        ticket.resolved_at = ticket.closed_at = None
    ticket.updated_at = now


def _mine(ticket: Ticket, customer) -> None:
    if ticket.customer_id != customer.pk:
        raise Ticket.DoesNotExist  # not theirs: callers already scoped the lookup; never reveal it


# --- Customers --------------------------------------------------------------------------------------------


def open_ticket(*, customer, category: str, subject: str, body: str, priority: str = TicketPriority.NORMAL,
                server=None, files=(), channel: str, ip: str | None = None) -> Ticket:
    """A customer's new ticket, with its first message and attachments. `server` is a Server or its id."""
    if category not in TicketCategory.values():
        raise TicketRefused(_("请选择工单类别。"), field="category", code="invalid")
    if priority == TicketPriority.URGENT:
        raise TicketRefused(_("“紧急”优先级只能由工作人员设置，请选择低、普通或高。"), field="priority",
                            code="urgent_by_staff_only")
    if priority not in TicketPriority.CUSTOMER:
        raise TicketRefused(_("请选择优先级。"), field="priority", code="invalid")
    subject = _text(subject, field="subject", limit=MAX_SUBJECT, empty_message=_("请填写标题。"))
    body = _text(body, field="body", limit=MAX_BODY, empty_message=_("请描述您遇到的问题。"))
    if server is not None:
        server_id = getattr(server, "pk", server)
        server = compute.servers_of(customer).filter(pk=server_id).first()
        if server is None:
            raise TicketRefused(_("请选择您自己的服务器。"), field="server", code="invalid_server")
    checked = _checked(files)
    now = clock.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(customer=customer, category=category, priority=priority, subject=subject,
                                       server=server, created_at=now, updated_at=now)
        message = TicketMessage.objects.create(ticket=ticket, author=customer, body=body, created_at=now)
        _store(message, checked)
        audit.record(actor=customer, owner=customer, channel=channel, action="ticket.open", target=ticket, ip=ip,
                     params={"category": category, "priority": priority, "server": server.pk if server else None,
                             "files": len(checked)})
    return ticket


def reply(*, ticket: Ticket, customer, body: str, files=(), channel: str, ip: str | None = None) -> TicketMessage:
    """The customer's reply. On a resolved ticket it reopens it (within the reopen period); closed: refused."""
    _mine(ticket, customer)
    body = _text(body, field="body", limit=MAX_BODY, empty_message=_("请填写回复内容。"))
    checked = _checked(files)
    now = clock.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if not can_reply(ticket):
            raise TicketRefused(_("工单已关闭，不能再回复；如问题仍未解决，请重新打开工单或提交新工单。"),
                                code="ticket_closed")
        reopened = ticket.status == TicketStatus.RESOLVED
        message = TicketMessage.objects.create(ticket=ticket, author=customer, body=body, created_at=now)
        _store(message, checked)
        if ticket.status != TicketStatus.OPEN:
            _set_status(ticket, TicketStatus.WAITING_STAFF, now)
        ticket.updated_at = now
        ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
        audit.record(actor=customer, owner=customer, channel=channel, action="ticket.reply", target=ticket, ip=ip,
                     params={"message": message.pk, "files": len(checked), "reopened": reopened})
        _tell_assignee(ticket, reopened=reopened)
    return message


def close(*, ticket: Ticket, customer, channel: str, ip: str | None = None) -> Ticket:
    """The customer closes their ticket (问题已解决或不再需要)."""
    _mine(ticket, customer)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status == TicketStatus.CLOSED:
            raise TicketRefused(_("工单已关闭。"), code="ticket_closed")
        _set_status(ticket, TicketStatus.CLOSED, clock.now())
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(actor=customer, owner=customer, channel=channel, action="ticket.close", target=ticket, ip=ip)
    return ticket


def reopen(*, ticket: Ticket, customer, channel: str, ip: str | None = None) -> Ticket:
    _mine(ticket, customer)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status in TicketStatus.ACTIVE:
            raise TicketRefused(_("工单仍在处理中，无需重新打开。"), code="ticket_active")
        if not can_reopen(ticket):
            raise TicketRefused(_("工单解决或关闭已超过 %(n)s 天，不能重新打开，请提交新工单。") % {
                "n": settings.WUJI_TICKET_REOPEN_DAYS}, code="reopen_period_over")
        _set_status(ticket, TicketStatus.WAITING_STAFF, clock.now())
        ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
        audit.record(actor=customer, owner=customer, channel=channel, action="ticket.reopen", target=ticket, ip=ip)
        _tell_assignee(ticket, reopened=True)
    return ticket


def rate(*, ticket: Ticket, customer, rating, comment: str = "", channel: str, ip: str | None = None) -> Ticket:
    """The customer's satisfaction rating (1–5, with an optional comment): once, after resolution."""
    _mine(ticket, customer)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise TicketRefused(_("评分须为 1 到 5 分。"), field="rating", code="invalid")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise TicketRefused(_("内容不能超过 %(n)s 字。") % {"n": MAX_COMMENT}, field="comment", code="too_long")
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.rating is not None:
            raise TicketRefused(_("您已评价过该工单。"), code="already_rated")
        if ticket.resolved_at is None:
            raise TicketRefused(_("工单解决后才能评价。"), code="not_resolved")
        ticket.rating, ticket.rating_comment, ticket.rated_at = rating, comment, clock.now()
        ticket.save(update_fields=["rating", "rating_comment", "rated_at"])
        audit.record(actor=customer, owner=customer, channel=channel, action="ticket.rate", target=ticket, ip=ip,
                     params={"rating": rating})
    return ticket


# --- Staff ------------------------------------------------------------------------------------------------


def _staff_locked(ticket: Ticket, staff) -> Ticket:
    ticket = _locked(ticket)
    if not can_handle(staff, ticket):
        raise TicketRefused(_("该工单不在您的处理队列中。"), code="not_in_queue")
    return ticket


def assign_to_self(*, ticket: Ticket, staff, ip: str | None = None) -> Ticket:
    with transaction.atomic():
        ticket = _staff_locked(ticket, staff)
        if ticket.assignee_id == staff.pk:
            return ticket
        previous = ticket.assignee_id
        ticket.assignee = staff
        ticket.save(update_fields=["assignee"])
        audit.record(actor=staff, owner=ticket.customer, channel=Channel.STAFF, action="ticket.assign",
                     target=ticket, ip=ip, params={"assignee": staff.pk, "previous": previous})
    return ticket


def staff_reply(*, ticket: Ticket, staff, body: str, internal: bool = False, files=(), status: str | None = None,
                ip: str | None = None) -> TicketMessage:
    """A staff reply (the customer is told; the ticket then waits for the customer unless `status` says
    otherwise) or an internal note (the customer never sees it; nothing else changes)."""
    body = _text(body, field="body", limit=MAX_BODY, empty_message=_("请填写回复内容。"))
    if status is not None and status not in TicketStatus.STAFF_SETTABLE:
        raise TicketRefused(_("请选择有效的状态。"), field="status", code="invalid")
    checked = _checked(files)
    now = clock.now()
    with transaction.atomic():
        ticket = _staff_locked(ticket, staff)
        if ticket.status == TicketStatus.CLOSED and not internal:
            raise TicketRefused(_("工单已关闭，不能再回复。"), code="ticket_closed")
        message = TicketMessage.objects.create(ticket=ticket, author=staff, by_staff=True, internal=internal,
                                               body=body, created_at=now)
        _store(message, checked)
        if internal:
            audit.record(actor=staff, owner=ticket.customer, channel=Channel.STAFF, action="ticket.note",
                         target=ticket, ip=ip, params={"message": message.pk, "files": len(checked)})
            return message
        status = status or TicketStatus.WAITING_CUSTOMER
        _set_status(ticket, status, now)
        ticket.first_response_at = ticket.first_response_at or now
        ticket.assignee = ticket.assignee or staff
        ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at", "first_response_at",
                                   "assignee"])
        audit.record(actor=staff, owner=ticket.customer, channel=Channel.STAFF, action="ticket.staff_reply",
                     target=ticket, ip=ip, params={"message": message.pk, "files": len(checked), "status": status})
        notify(ticket.customer, notices.STAFF_REPLIED.code, _context(ticket, body=body))
        if status != TicketStatus.WAITING_CUSTOMER:
            notify(ticket.customer, notices.STATUS_CHANGED.code, _context(ticket))
    return message


def change_status(*, ticket: Ticket, staff, status: str, ip: str | None = None) -> Ticket:
    if status not in TicketStatus.STAFF_SETTABLE:
        raise TicketRefused(_("请选择有效的状态。"), field="status", code="invalid")
    with transaction.atomic():
        ticket = _staff_locked(ticket, staff)
        if ticket.status == status:
            return ticket
        previous = ticket.status
        _set_status(ticket, status, clock.now())
        ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
        audit.record(actor=staff, owner=ticket.customer, channel=Channel.STAFF, action="ticket.status",
                     target=ticket, ip=ip, params={"from": previous, "to": status})
        notify(ticket.customer, notices.STATUS_CHANGED.code, _context(ticket))
    return ticket


def change_priority(*, ticket: Ticket, staff, priority: str, ip: str | None = None) -> Ticket:
    if priority not in TicketPriority.values():
        raise TicketRefused(_("请选择优先级。"), field="priority", code="invalid")
    with transaction.atomic():
        ticket = _staff_locked(ticket, staff)
        if ticket.priority == priority:
            return ticket
        previous, ticket.priority = ticket.priority, priority
        ticket.save(update_fields=["priority"])
        audit.record(actor=staff, owner=ticket.customer, channel=Channel.STAFF, action="ticket.priority",
                     target=ticket, ip=ip, params={"from": previous, "to": priority})
    return ticket


def change_category(*, ticket: Ticket, staff, category: str, ip: str | None = None) -> Ticket:
    """Move a ticket to another category, and so to another role's queue; the assignee is kept only if they
    also answer the new category."""
    if category not in TicketCategory.values():
        raise TicketRefused(_("请选择工单类别。"), field="category", code="invalid")
    with transaction.atomic():
        ticket = _staff_locked(ticket, staff)
        if ticket.category == category:
            return ticket
        previous, ticket.category = ticket.category, category
        if ticket.assignee_id and not can_handle(ticket.assignee, ticket):
            ticket.assignee = None
        ticket.save(update_fields=["category", "assignee"])
        audit.record(actor=staff, owner=ticket.customer, channel=Channel.STAFF, action="ticket.category",
                     target=ticket, ip=ip, params={"from": previous, "to": category})
    return ticket


# --- The periodic job -------------------------------------------------------------------------------------


def close_resolved_tickets() -> int:
    """Close tickets resolved more than WUJI_TICKET_AUTOCLOSE_DAYS ago without a reply since. Idempotent."""
    days = settings.WUJI_TICKET_AUTOCLOSE_DAYS
    cutoff = clock.now() - dt.timedelta(days=days)
    closed = 0
    due = Ticket.objects.filter(status=TicketStatus.RESOLVED, resolved_at__lte=cutoff).values_list("pk", flat=True)
    for pk in list(due[:1000]):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=pk)
            if ticket.status != TicketStatus.RESOLVED or ticket.resolved_at > cutoff:
                continue  # the customer replied meanwhile
            _set_status(ticket, TicketStatus.CLOSED, clock.now())
            ticket.save(update_fields=["status", "closed_at", "updated_at"])
            audit.record(actor=None, owner=ticket.customer, channel=Channel.SYSTEM, action="ticket.autoclose",
                         target=ticket, params={"days": days})
            notify(ticket.customer, notices.STATUS_CHANGED.code, _context(ticket, autoclosed=True, days=days))
            closed += 1
    return closed
