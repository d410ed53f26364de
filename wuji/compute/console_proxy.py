"""The VNC console proxy: WebSocket from the browser (noVNC) to the server's VNC display on its node.

One asyncio process (`wuji console-proxy`). The opening handshake is where access is decided, before any
byte reaches a node: the Origin header is checked first (a refused page must not burn the token), then the
token in `?token=` (or the last path segment) is redeemed through `wuji.compute.console.redeem` in a worker
thread, since Django's ORM is synchronous. Refusals are HTTP 403 (token, Origin) or 503 (node) with a short
text body; after the handshake, an unreachable display closes the WebSocket with 1011. Then binary frames
and TCP bytes are relayed both ways until either side closes. See docs/decisions/0022-vnc-console.md.
"""

import asyncio
import concurrent.futures
import contextlib
import http
import logging
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import connections
from django.http.request import validate_host
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import console

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10
READ_CHUNK = 64 * 1024
# Refusals that are the node's fault rather than the token's.
NODE_REFUSALS = {"unavailable"}
DB_THREADS = 4


def origin_allowed(origin: str) -> bool:
    """The Origin rule: an exact entry of WUJI_CONSOLE_ALLOWED_ORIGINS, or, when that is empty, an http(s)
    origin whose host the portal itself serves (ALLOWED_HOSTS, with Django's own matching)."""
    allowed = settings.WUJI_CONSOLE_ALLOWED_ORIGINS
    if allowed:
        return origin.rstrip("/") in {entry.rstrip("/") for entry in allowed}
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and validate_host(
        parts.hostname, settings.ALLOWED_HOSTS)


def token_from(path: str) -> str:
    """`/?token=T` (what the portal hands out) or `/…/T` (what some noVNC set-ups send)."""
    parts = urlsplit(path)
    return (parse_qs(parts.query).get("token") or [""])[0] or parts.path.rstrip("/").rsplit("/", 1)[-1]


def _redeem_blocking(token: str) -> console.ConsoleTarget:
    """`redeem` for a worker thread. Console opens are rare, so each one uses a fresh database connection and
    closes it: the proxy's threads hold no idle connections (nor stale ones after a database restart)."""
    try:
        return console.redeem(token)
    finally:
        connections.close_all()


class ConsoleProxy:
    """The relay: admits connections in the handshake, then pipes bytes between browser and display."""

    def __init__(self) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=DB_THREADS,
                                                              thread_name_prefix="console-db")

    def serve(self, host: str, port: int):
        """The websockets server (an async context manager); `port=0` picks a free port."""
        return serve(self.relay, host, port, process_request=self.admit, select_subprotocol=self.subprotocol,
                     compression=None, logger=log)

    @staticmethod
    def subprotocol(connection: ServerConnection, offered) -> str | None:
        # Old noVNC clients offer "binary" (websockify's name for plain binary frames); new ones offer none.
        return "binary" if "binary" in offered else None

    async def admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Decide during the handshake: None lets the WebSocket open, a Response refuses it."""
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(origin):
            log.warning("console refused from %s: origin %r not allowed", connection.remote_address, origin)
            return connection.respond(http.HTTPStatus.FORBIDDEN, "origin not allowed\n")
        token = token_from(request.path)
        if not token:
            return connection.respond(http.HTTPStatus.FORBIDDEN, "token missing\n")
        loop = asyncio.get_running_loop()
        try:
            target = await loop.run_in_executor(self.executor, _redeem_blocking, token)
        except console.ConsoleRefused as exc:
            log.info("console refused from %s: %s", connection.remote_address, exc.code)
            status = http.HTTPStatus.SERVICE_UNAVAILABLE if exc.code in NODE_REFUSALS else http.HTTPStatus.FORBIDDEN
            return connection.respond(status, f"{exc.code}\n")
        connection.console_target = target  # read by relay() once the WebSocket is open
        return None

    async def relay(self, websocket: ServerConnection) -> None:
        target: console.ConsoleTarget = websocket.console_target
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port),
                                                    CONNECT_TIMEOUT_SECONDS)
        except (OSError, TimeoutError):
            log.warning("console of %s: display %s:%s unreachable", target.server_uuid, target.host, target.port)
            await websocket.close(1011, "console unreachable")
            return
        log.info("console of %s opened for %s", target.server_uuid, websocket.remote_address)
        try:
            await first_to_finish(browser_to_display(websocket, writer), display_to_browser(reader, websocket))
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            await websocket.close()
        log.info("console of %s closed", target.server_uuid)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


async def browser_to_display(websocket: ServerConnection, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionClosed, ConnectionError):
        async for message in websocket:
            writer.write(message if isinstance(message, bytes) else message.encode())
            await writer.drain()


async def display_to_browser(reader: asyncio.StreamReader, websocket: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed, ConnectionError):
        while chunk := await reader.read(READ_CHUNK):
            await websocket.send(chunk)


async def first_to_finish(*coroutines) -> None:
    """Run the two directions; when one ends (its side closed), stop the other."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run(host: str, port: int, stop: asyncio.Event, ready=None) -> None:
    """Serve until `stop` is set; `ready(port)` is called once listening (the chosen port when 0)."""
    proxy = ConsoleProxy()
    try:
        async with proxy.serve(host, port) as server:
            if ready is not None:
                ready(server.sockets[0].getsockname()[1])
            await stop.wait()
    finally:
        proxy.close()
