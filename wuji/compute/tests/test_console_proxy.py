"""The console proxy end to end on loopback: a real WebSocket client, the proxy, a TCP endpoint that speaks
the first bytes of RFB (a VNC server's greeting) and echoes the rest."""

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from wuji.compute import console, console_proxy
from wuji.compute.models import ConsoleToken

from .console_support import running_server, serving_proxy
from .test_operations import fake

pytestmark = pytest.mark.django_db(transaction=True)  # the proxy redeems tokens from its own threads

RFB_GREETING = b"RFB 003.008\n"
PORTAL_ORIGIN = "http://127.0.0.1:8000"


class FakeDisplay:
    """A VNC display stand-in on 127.0.0.1: greets like RFB, then echoes, and hangs up on b"bye".

    It remembers what it received and notes when the proxy's side of a connection ended."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # shut down
                return
            with conn:
                conn.sendall(RFB_GREETING)
                while (data := conn.recv(65536)) and data != b"bye":
                    self.received += data
                    conn.sendall(data)
                if not data:
                    self.ended.set()

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def display():
    display = FakeDisplay()
    yield display
    display.close()


@pytest.fixture
def proxy_port():
    with serving_proxy() as port:
        yield port


@pytest.fixture
def server(catalogue, display):
    server = running_server(catalogue, "console@example.com")
    # The fake hypervisor's display of this server is the loopback endpoint above.
    fake().world.instances[str(server.uuid)].console_port = display.port
    return server


def open_console(port: int, token: str, origin: str | None = PORTAL_ORIGIN):
    return connect(f"ws://127.0.0.1:{port}/?token={token}", origin=origin, open_timeout=10)


def refusal(port: int, token: str, origin: str | None = PORTAL_ORIGIN) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused, open_console(port, token, origin):
        pass
    return refused.value.response.status_code, refused.value.response.body.decode()


def issue(server) -> str:
    return console.issue_token(server.owner, server, channel="web", ip="127.0.0.1").token


def test_the_proxy_relays_bytes_both_ways(server, display, proxy_port):
    with open_console(proxy_port, issue(server)) as ws:
        assert ws.recv(timeout=10) == RFB_GREETING
        ws.send(b"RFB 003.008\n\x01")
        assert ws.recv(timeout=10) == b"RFB 003.008\n\x01"
    assert display.ended.wait(10), "closing the WebSocket did not close the display connection"
    assert bytes(display.received) == b"RFB 003.008\n\x01"
    assert ConsoleToken.objects.get().used_at is not None


def test_a_token_in_the_path_is_accepted(server, proxy_port):
    with connect(f"ws://127.0.0.1:{proxy_port}/websockify/{issue(server)}", origin=PORTAL_ORIGIN) as ws:
        assert ws.recv(timeout=10) == RFB_GREETING


def test_a_reused_token_is_refused(server, proxy_port):
    token = issue(server)
    with open_console(proxy_port, token) as ws:
        assert ws.recv(timeout=10) == RFB_GREETING
    assert refusal(proxy_port, token) == (403, "used\n")


def test_an_expired_token_is_refused(server, proxy_port):
    token = issue(server)
    ConsoleToken.objects.update(expires_at=ConsoleToken.objects.get().created_at + dt.timedelta(microseconds=1))
    assert refusal(proxy_port, token) == (403, "expired\n")


def test_a_bad_or_missing_token_is_refused(server, proxy_port):
    assert refusal(proxy_port, "forged") == (403, "invalid\n")
    with pytest.raises(InvalidStatus) as refused, connect(f"ws://127.0.0.1:{proxy_port}/", origin=PORTAL_ORIGIN):
        pass
    assert refused.value.response.status_code == 403


def test_a_foreign_origin_is_refused_without_spending_the_token(server, proxy_port):
    token = issue(server)
    assert refusal(proxy_port, token, origin="https://evil.example") == (403, "origin not allowed\n")
    assert ConsoleToken.objects.get().used_at is None
    with open_console(proxy_port, token) as ws:  # the portal's own page still gets through
        assert ws.recv(timeout=10) == RFB_GREETING


def test_a_client_without_origin_is_not_a_browser_and_is_let_through(server, proxy_port):
    with open_console(proxy_port, issue(server), origin=None) as ws:
        assert ws.recv(timeout=10) == RFB_GREETING


def test_configured_origins_replace_the_allowed_hosts_rule(server, proxy_port, settings):
    settings.WUJI_CONSOLE_ALLOWED_ORIGINS = ["https://cloud.example.com"]
    assert refusal(proxy_port, issue(server)) == (403, "origin not allowed\n")
    with open_console(proxy_port, issue(server), origin="https://cloud.example.com") as ws:
        assert ws.recv(timeout=10) == RFB_GREETING


def test_an_unreachable_display_closes_the_websocket_with_1011(server, proxy_port):
    fake().world.instances[str(server.uuid)].console_port = unused_port()
    with open_console(proxy_port, issue(server)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1011


def test_the_display_hanging_up_closes_the_websocket(server, proxy_port):
    with open_console(proxy_port, issue(server)) as ws:
        assert ws.recv(timeout=10) == RFB_GREETING
        ws.send(b"bye")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)


@pytest.mark.parametrize(("origin", "allowed"), [
    ("http://127.0.0.1:8000", True),
    ("https://localhost", True),
    ("http://evil.example", False),
    ("file://", False),
    ("null", False),
])
def test_the_default_origin_rule_follows_allowed_hosts(origin, allowed, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.WUJI_CONSOLE_ALLOWED_ORIGINS = []
    assert console_proxy.origin_allowed(origin) is allowed


def test_the_command_serves_until_terminated(tmp_path):
    env = {**os.environ, "WUJI_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "wuji.settings"}
    proc = subprocess.Popen([sys.executable, "-m", "wuji.cli", "console-proxy", "--port", "0"], env=env,
                            cwd=Path(__file__).resolve().parents[3], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"ws://127\.0\.0\.1:(\d+)/", line).group(1))
        assert refusal(port, "forged", origin="https://evil.example") == (403, "origin not allowed\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
