"""VNC console access (远程控制台): single-use, short-lived tokens, after Nova's console auth tokens.

`issue_token` hands the owner (or staff) a random token for one running server and records the instruction;
only its keyed hash is stored. The console proxy (`wuji console-proxy`) calls `redeem` when the browser
connects: one conditional UPDATE consumes the token, so it opens at most one connection, and the driver says
where the server's VNC display listens. See docs/decisions/0022-vnc-console.md.
"""

import dataclasses
import datetime as dt
import ipaddress
import secrets
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Result
from wuji.core import clock, crypto

from .choices import TaskState, VmState
from .drivers.base import DriverError, NotSupported
from .models import ConsoleToken, Server
from .services import OperationRefused
from .tasks import driver_for

TOKEN_TTL = dt.timedelta(seconds=60)
# Spent and expired tokens are kept a little longer so a late reuse is told "used"/"expired", not "unknown".
PURGE_AFTER = dt.timedelta(hours=1)
HASH_PURPOSE = "console-token"


class ConsoleRefused(OperationRefused):
    """No console now; `code` is stable for machines (the proxy maps it to its refusal), the message for people."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    expires_at: dt.datetime
    url: str  # what the browser opens: the proxy's public URL with the token


@dataclasses.dataclass(frozen=True)
class ConsoleTarget:
    """Where a redeemed token leads: the server and its VNC display as reachable from the proxy."""

    server_id: int
    server_uuid: str
    host: str
    port: int


def may_open(user, server: Server) -> bool:
    """The owner boundary: a server's console is for its owner, and for staff."""
    return user.is_active and (server.owner_id == user.pk or user.is_staff)


def token_digest(token: str) -> str:
    return crypto.keyed_hash(token, HASH_PURPOSE)


def proxy_url(token: str) -> str:
    return f"{settings.WUJI_CONSOLE_URL}?token={token}"


def issue_token(user, server: Server, *, channel: str, ip: str | None, reason: str = "") -> IssuedToken:
    """Grant `user` one console connection to `server` within 60 s, or refuse with a clear reason.

    Raises Server.DoesNotExist across the owner boundary (the caller shows 404) and ConsoleRefused when the
    server is not running, has an operation in flight or sits on a node without consoles; a refusal is
    recorded like any other instruction. Staff opening a customer's screen give a `reason`, recorded with it.
    """
    if not may_open(user, server):
        raise Server.DoesNotExist
    params = {"reason": reason} if reason else None
    refusal = _refusal_reason(server)
    if refusal is not None:
        audit.record(actor=user, owner=server.owner, channel=channel, action="server.console", target=server,
                     params=params, ip=ip, result=Result.REFUSED, detail=str(refusal))
        raise refusal
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        purge_tokens(now)
        instruction = audit.record(actor=user, owner=server.owner, channel=channel, action="server.console",
                                   target=server, params=params, ip=ip)
        issued = ConsoleToken.objects.create(digest=token_digest(token), user=user, server=server,
                                             instruction=instruction, created_at=now, expires_at=now + TOKEN_TTL)
    return IssuedToken(token=token, expires_at=issued.expires_at, url=proxy_url(token))


def _refusal_reason(server: Server) -> ConsoleRefused | None:
    current = Server.objects.filter(pk=server.pk).select_related("node").first()
    if current is None or current.vm_state != VmState.ACTIVE:
        return ConsoleRefused(_("服务器运行中时才能打开远程控制台。"), code="not_running")
    if current.task_state != TaskState.NONE:
        return ConsoleRefused(_("该服务器有操作正在进行（%(task)s），请等待完成后再打开远程控制台。") % {
            "task": TaskState.label(current.task_state)}, code="busy")
    if current.node is None or not driver_for(current.node).capabilities.supports_console:
        return ConsoleRefused(_("该服务器所在的节点不提供远程控制台。"), code="unsupported")
    return None


def purge_tokens(now: dt.datetime | None = None) -> int:
    """Delete tokens that expired more than PURGE_AFTER ago (the instruction log keeps the history)."""
    deleted, _by_model = ConsoleToken.objects.filter(expires_at__lt=(now or clock.now()) - PURGE_AFTER).delete()
    return deleted


def redeem(token: str) -> ConsoleTarget:
    """Consume a token and say where its server's console listens, or raise ConsoleRefused.

    Consuming is one conditional UPDATE (unused and unexpired), so of two connections racing with the same
    token exactly one gets through. Ownership and state are checked again here: the server may have been
    pushed to another account or stopped since the token was issued. The instruction's outcome is recorded.
    """
    digest = token_digest(token)
    now = clock.now()
    consumed = ConsoleToken.objects.filter(digest=digest, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now)
    grant = ConsoleToken.objects.select_related("user", "server__node", "server__owner", "instruction").filter(
        digest=digest).first()
    if not consumed:
        raise _spent_reason(grant)
    server = grant.server
    try:
        if not may_open(grant.user, server):
            raise ConsoleRefused(_("控制台令牌无效。"), code="invalid")
        if server.vm_state != VmState.ACTIVE:
            raise ConsoleRefused(_("服务器运行中时才能打开远程控制台。"), code="not_running")
        target = _console_target(server)
    except ConsoleRefused as exc:
        audit.record_outcome(grant.instruction, succeeded=False, detail=str(exc))
        raise
    audit.record_outcome(grant.instruction, succeeded=True)
    return target


def _spent_reason(grant: ConsoleToken | None) -> ConsoleRefused:
    if grant is None:
        return ConsoleRefused(_("控制台令牌无效。"), code="invalid")
    if grant.used_at is not None:
        return ConsoleRefused(_("控制台令牌已使用过，请重新打开远程控制台。"), code="used")
    return ConsoleRefused(_("控制台令牌已过期，请重新打开远程控制台。"), code="expired")


def _console_target(server: Server) -> ConsoleTarget:
    try:
        info = driver_for(server.node).get_console(str(server.uuid))
    except NotSupported as exc:
        raise ConsoleRefused(_("该服务器所在的节点不提供远程控制台。"), code="unsupported") from exc
    except DriverError as exc:
        raise ConsoleRefused(_("暂时无法连接服务器的控制台，请稍后再试。"), code="unavailable") from exc
    return ConsoleTarget(server.pk, str(server.uuid), reachable_host(server.node.uri, info.host), info.port)


def reachable_host(node_uri: str, listen: str) -> str:
    """The address the proxy dials for a display listening on `listen` on the node at `node_uri`.

    A wildcard listen address (0.0.0.0, ::) means "every interface of the node": dial the node's host from
    its libvirt URI (or loopback for a local URI). Any other address is dialled as the driver reports it: the
    libvirt driver makes displays listen on the node's `console_address` (its management-network address;
    127.0.0.1 for a local node) and reports what the live domain listens on (see 0022).
    """
    try:
        wildcard = ipaddress.ip_address(listen).is_unspecified
    except ValueError:
        wildcard = False
    if not wildcard:
        return listen
    return urlparse(node_uri).hostname or "127.0.0.1"
