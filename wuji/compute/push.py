"""Server push (服务器push, clauses 3.1.1 and 3.2): an owner hands a server to another account.

The owner offers the server to an account by its login (e-mail or mobile number); the receiver accepts within
WUJI_SERVER_PUSH_HOURS (72 h), declines, or lets it lapse; the owner may withdraw it while it is open. At most
one offer is open per server (a partial unique constraint).

Acceptance is one transaction that re-checks everything under row locks, in the platform's lock order
(decision 0023): the offer; billing's subscription and the sender's accounts (`billing.transfers.begin`); the
server row (`select_for_update`, then a conditional UPDATE of the owner as the compare-and-swap); the meter. An
operation in flight refuses the push, and an operation requested while the acceptance holds the server row
waits for it and then finds the server no longer belongs to its requester (compute's operations compare the
owner too). Every instruction — offer, acceptance, refusal of either, decline, withdrawal — is recorded;
the offer's outcome is recorded when it closes.
"""

import contextlib
import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.accounts import contacts
from wuji.accounts import services as accounts
from wuji.accounts.choices import ContactKind
from wuji.audit import services as audit
from wuji.audit.choices import Result
from wuji.billing import freezes, transfers
from wuji.billing import services as billing
from wuji.billing.payg import available_fen
from wuji.catalog import services as catalog
from wuji.catalog.choices import PlatformService
from wuji.core import clock, money
from wuji.identity import services as identity
from wuji.ledger import services as ledger
from wuji.notifications import services as notifications

from . import notices
from .choices import PushState, SuspensionReason, TaskState, VmState
from .models import Server, ServerPush
from .services import OperationRefused
from .signals import server_pushed

PUSHABLE = (VmState.ACTIVE, VmState.STOPPED)


class PushRefused(OperationRefused):
    """A push instruction that cannot be carried out; the message is for the customer, `code` for the API."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message, self.code = message, code


# --- Reading ------------------------------------------------------------------------------------------------


def _pushes():
    return ServerPush.objects.select_related("server", "server__region", "sender", "receiver")


def pushes_of(user):
    """Pushes `user` offered or was offered (the owner boundary of both sides), newest first."""
    return _pushes().filter(Q(sender=user) | Q(receiver=user))


def incoming_of(user):
    """Pushes offered to `user` (the receiver's owner boundary), newest first."""
    return _pushes().filter(receiver=user)


def outgoing_of(user):
    """Pushes `user` offered (the sender's owner boundary), newest first."""
    return _pushes().filter(sender=user)


def open_offer_of(server) -> ServerPush | None:
    return _pushes().filter(server=server, state=PushState.OFFERED).first()


def current_fee_fen() -> int:
    """The push fee an offer made now would carry: the catalogue's service fee in force (0 = free). The offer
    stores it, and that stored amount is what acceptance charges, whatever the fee list says by then."""
    return catalog.service_fee_fen(PlatformService.SERVER_PUSH)


def masked_login(user) -> str:
    """How one side of a push is shown to the other: the e-mail address, masked."""
    return contacts.mask(ContactKind.EMAIL, user.email)


def is_past_deadline(push: ServerPush, now: dt.datetime | None = None) -> bool:
    return push.state == PushState.OFFERED and (now or clock.now()) >= push.expires_at


# --- Checks (each raises PushRefused with the reason) -------------------------------------------------------


def check_server(server: Server) -> None:
    """The server may change hands now: not suspended, no operation in flight, not in arrears."""
    if server.task_state:
        raise PushRefused(_("该服务器有操作正在进行（%(task)s），请等待完成后再转让。")
                          % {"task": TaskState.label(server.task_state)}, code="operation_in_progress")
    if server.vm_state == VmState.SUSPENDED:
        raise PushRefused(_("该服务器已暂停服务（原因：%(reason)s），不能转让。")
                          % {"reason": SuspensionReason.label(server.suspension_reason)}, code="server_suspended")
    if server.vm_state not in PUSHABLE:
        raise PushRefused(_("服务器当前状态（%(state)s）不能转让，只有运行中或已关机的服务器可以转让。")
                          % {"state": VmState.label(server.vm_state)}, code="server_state")
    transfers.refuse_arrears(transfers.arrears_fen(server))


def check_receiver(receiver, *, sender, region) -> None:
    """The receiver may take the server: a real, other, unrestricted account, real-name verified where the
    server's region requires it (the same rule as buying there, 2.1.2)."""
    if receiver is None or not receiver.is_active:
        raise PushRefused(_("没有找到该账户，请核对接收方的登录邮箱或手机号码。"), code="receiver_unknown")
    if receiver.pk == sender.pk:
        raise PushRefused(_("不能把服务器转让给自己。"), code="receiver_is_sender")
    if (receiver.locked_at or identity.is_restricted(receiver) or contacts.has_contact_restriction(receiver)
            or freezes.has_open_freeze(receiver)):
        raise PushRefused(_("接收方账户当前被冻结或限制使用，不能接收服务器。"), code="receiver_restricted")
    if identity.region_requires_verification(region) and not identity.is_verified(receiver):
        raise PushRefused(_("接收方账户尚未完成实名认证，不能接收%(region)s的服务器。") % {"region": region.name},
                          code="receiver_not_verified")


def _require_open(push: ServerPush, now: dt.datetime) -> None:
    if push.state != PushState.OFFERED:
        raise PushRefused(_("该转让已结束（%(state)s）。") % {"state": PushState.label(push.state)}, code="push_closed")
    if is_past_deadline(push, now):
        raise PushRefused(_("该转让已超过接收期限（%(deadline)s），已失效。") % {"deadline": _local(push.expires_at)},
                          code="push_expired")


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


@contextlib.contextmanager
def _refusal_recorded(*, actor, channel: str, action: str, target, params: dict, ip: str | None):
    """Record a refused instruction after its transaction rolled back, and re-raise it as a PushRefused."""
    try:
        yield
    except (PushRefused, transfers.TransferRefused) as exc:
        audit.record(actor=actor, owner=actor, channel=channel, action=action, target=target, params=params, ip=ip,
                     result=Result.REFUSED, detail=exc.message)
        if isinstance(exc, PushRefused):
            raise
        raise PushRefused(exc.message, code=exc.code) from exc


# --- Offer --------------------------------------------------------------------------------------------------


def offer(*, server: Server, receiver_login: str, actor, channel: str, ip: str | None, idempotency_key: str,
          factor: str | None = None) -> ServerPush:
    """The owner offers `server` to the account signing in with `receiver_login`. A retry with the same key
    returns the first offer. The receiver is told, with the deadline."""
    existing = ServerPush.objects.filter(sender=actor, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    login = (receiver_login or "").strip()
    params = {"receiver": login[:254], **({"factor": factor} if factor else {})}
    with _refusal_recorded(actor=actor, channel=channel, action="server.push_offer", target=server, params=params,
                           ip=ip), transaction.atomic():
        locked = Server.objects.select_for_update().filter(pk=server.pk, owner=actor).first()
        if locked is None:
            raise PushRefused(_("服务器不存在。"), code="not_found")
        receiver = accounts.find_user(login)
        check_receiver(receiver, sender=actor, region=locked.region)
        check_server(locked)
        fee = current_fee_fen()
        if fee and available_fen(actor) < fee:
            raise PushRefused(_("余额不足以支付转让手续费 %(yuan)s 元，请先充值。") % {"yuan": money.fen_to_yuan(fee)},
                              code="insufficient_balance")
        return _create_offer(locked, sender=actor, receiver=receiver, fee=fee, key=idempotency_key,
                             params=params, channel=channel, ip=ip)


def _create_offer(server: Server, *, sender, receiver, fee: int, key: str, params: dict, channel: str,
                  ip: str | None) -> ServerPush:
    now = clock.now()
    try:
        with transaction.atomic():
            push = ServerPush.objects.create(
                server=server, sender=sender, receiver=receiver, fee_fen=fee, idempotency_key=key, offered_at=now,
                expires_at=now + dt.timedelta(hours=settings.WUJI_SERVER_PUSH_HOURS))
    except IntegrityError:
        raise PushRefused(_("该服务器已有一个待接收的转让，请等待对方处理或先撤回。"), code="already_offered") from None
    push.offer_instruction = audit.record(
        actor=sender, owner=sender, channel=channel, action="server.push_offer", target=server, ip=ip,
        params={**params, "push": push.pk, "fee_fen": fee, "expires_at": push.expires_at.isoformat()})
    push.save(update_fields=["offer_instruction"])
    notifications.notify(receiver, notices.PUSH_OFFERED.code, {
        **_context(push), "region": server.region.name, "deadline": _local(push.expires_at)})
    return push


def _context(push: ServerPush) -> dict:
    return {"name": push.server.name, "sender": masked_login(push.sender), "receiver": masked_login(push.receiver)}


# --- Acceptance ---------------------------------------------------------------------------------------------


def accept(*, push: ServerPush, actor, channel: str, ip: str | None, factor: str | None = None) -> ServerPush:
    """The receiver takes the server: owner, renewals, pay-as-you-go meter and public IP move to them at once;
    the push fee is charged to the sender. Accepting an offer already accepted returns it (a retry)."""
    if push.receiver_id != actor.pk:
        raise PushRefused(_("没有找到该转让。"), code="not_found")
    params = {"push": push.pk, "sender": masked_login(push.sender), **({"factor": factor} if factor else {})}
    try:
        with _refusal_recorded(actor=actor, channel=channel, action="server.push_accept", target=push.server,
                               params=params, ip=ip), transaction.atomic():
            return _accept_locked(push.pk, actor=actor, channel=channel, ip=ip, params=params)
    except PushRefused as exc:
        if exc.code == "push_expired":
            expire(push)
        raise


def _accept_locked(push_id: int, *, actor, channel: str, ip: str | None, params: dict) -> ServerPush:
    push = _pushes().select_for_update(of=("self",)).get(pk=push_id)
    if push.state == PushState.ACCEPTED:
        return push
    now = clock.now()
    _require_open(push, now)
    sender = push.sender
    handover = transfers.begin(push.server_id, sender)  # subscription and sender's accounts before the server
    server = Server.objects.select_for_update(of=("self",)).select_related("region").get(pk=push.server_id)
    if server.owner_id != sender.pk:
        raise PushRefused(_("该服务器已不属于转出方，转让无效。"), code="owner_changed")
    check_server(server)
    check_receiver(actor, sender=sender, region=server.region)
    fee_transaction = _charge_fee(push)
    moved = Server.objects.filter(pk=server.pk, owner=sender, task_state=TaskState.NONE,
                                  vm_state__in=PUSHABLE).update(owner=actor)
    if moved != 1:  # cannot happen under the lock; the compare-and-swap guards the invariant all the same
        raise PushRefused(_("服务器状态已变化，请刷新后重试。"), code="server_changed")
    handover.complete(sender=sender, receiver=actor, at=now, key=f"push:{push.pk}")
    server_pushed.send(sender=Server, server=server, from_owner=sender, to_owner=actor, at=now)
    push.state, push.closed_at, push.fee_transaction = PushState.ACCEPTED, now, fee_transaction
    push.save(update_fields=["state", "closed_at", "fee_transaction"])
    audit.record(actor=actor, owner=actor, channel=channel, action="server.push_accept", target=server, ip=ip,
                 params={**params, "fee_fen": push.fee_fen})
    audit.record_outcome(push.offer_instruction, succeeded=True, detail=_("接收方已接收"))
    context = {**_context(push), "at": _local(now), "fee": money.fen_to_yuan(push.fee_fen)}
    notifications.notify(sender, notices.PUSH_ACCEPTED.code, context)
    notifications.notify(actor, notices.PUSH_RECEIVED.code, context)
    return push


def _charge_fee(push: ServerPush):
    """The push fee, charged to the sender once (its ledger key names the push). None when free."""
    if not push.fee_fen:
        return None
    try:
        return billing.charge(push.sender, amount=push.fee_fen, key=f"push:{push.pk}:fee",
                              cause=("server_push", push.pk), memo=_("服务器转让手续费 %(name)s") % {
                                  "name": push.server.name})
    except ledger.InsufficientFunds as exc:
        raise PushRefused(_("转出方余额不足以支付转让手续费 %(yuan)s 元，暂不能接收；请联系转出方充值。")
                          % {"yuan": money.fen_to_yuan(push.fee_fen)}, code="sender_insufficient_balance") from exc


# --- Decline, withdrawal, lapse -----------------------------------------------------------------------------


def decline(*, push: ServerPush, actor, channel: str, ip: str | None) -> ServerPush:
    """The receiver refuses the offer; the server stays with its owner."""
    if push.receiver_id != actor.pk:
        raise PushRefused(_("没有找到该转让。"), code="not_found")
    return _close_by(push, actor=actor, state=PushState.DECLINED, action="server.push_decline", channel=channel,
                     ip=ip, tell=push.sender, event=notices.PUSH_DECLINED.code, outcome=_("接收方已拒绝"))


def cancel(*, push: ServerPush, actor, channel: str, ip: str | None) -> ServerPush:
    """The sender withdraws an open offer (撤回)."""
    if push.sender_id != actor.pk:
        raise PushRefused(_("没有找到该转让。"), code="not_found")
    return _close_by(push, actor=actor, state=PushState.CANCELLED, action="server.push_cancel", channel=channel,
                     ip=ip, tell=push.receiver, event=notices.PUSH_CANCELLED.code, outcome=_("转出方已撤回"))


def _close_by(push: ServerPush, *, actor, state: str, action: str, channel: str, ip: str | None, tell, event: str,
              outcome: str) -> ServerPush:
    """Close an open offer at one side's instruction. Repeating it returns the closed offer (a retry)."""
    try:
        with _refusal_recorded(actor=actor, channel=channel, action=action, target=push.server,
                               params={"push": push.pk}, ip=ip), transaction.atomic():
            locked = _pushes().select_for_update(of=("self",)).get(pk=push.pk)
            if locked.state == state:
                return locked
            _require_open(locked, clock.now())
            _close(locked, state)
            audit.record(actor=actor, owner=actor, channel=channel, action=action, target=locked.server, ip=ip,
                         params={"push": locked.pk})
            audit.record_outcome(locked.offer_instruction, succeeded=False, detail=outcome)
            notifications.notify(tell, event, _context(locked))
            return locked
    except PushRefused as exc:
        if exc.code == "push_expired":
            expire(push)
        raise


def _close(push: ServerPush, state: str) -> None:
    push.state, push.closed_at = state, clock.now()
    push.save(update_fields=["state", "closed_at"])


def expire(push: ServerPush, now: dt.datetime | None = None) -> bool:
    """Close one offer past its deadline (a platform action, recorded in the sender's log); the sender is told.
    Returns False when it is no longer open or not yet due."""
    now = now or clock.now()
    with transaction.atomic():
        locked = _pushes().select_for_update(of=("self",)).get(pk=push.pk)
        if not is_past_deadline(locked, now):
            return False
        _close(locked, PushState.EXPIRED)
        audit.record(actor=None, owner=locked.sender, channel="system", action="server.push_expire",
                     target=locked.server, params={"push": locked.pk, "expires_at": locked.expires_at.isoformat()})
        audit.record_outcome(locked.offer_instruction, succeeded=False, detail=_("接收方未在期限内接收"))
        notifications.notify(locked.sender, notices.PUSH_EXPIRED.code, {
            **_context(locked), "deadline": _local(locked.expires_at)})
    return True


def expire_due(now: dt.datetime | None = None) -> int:
    """Close every open offer past its deadline (the periodic job). Each in its own transaction."""
    now = now or clock.now()
    due = ServerPush.objects.filter(state=PushState.OFFERED, expires_at__lte=now).order_by("pk")
    return sum(expire(push, now) for push in due)
