"""Shared by the console proxy tests and the console browser test: a running server bought without money,
and the proxy served on a free loopback port from its own thread and event loop."""

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

from django.db import transaction

from wuji.audit import services as audit
from wuji.compute import console_proxy
from wuji.compute import services as compute
from wuji.compute.choices import VmState
from wuji.compute.models import Server
from wuji.core import clock, testing


def running_server(catalogue, email: str) -> Server:
    """A running server of a new customer, created through the compute services without a charge.

    These tests need committed rows (the proxy reads them from its own threads), and SQLite test databases
    are flushed with DELETE, which the ledger's journal refuses: so no money moves here.
    """
    owner = testing.make_customer(email)
    with transaction.atomic():  # as the purchase's transaction would
        instruction = audit.record(actor=owner, owner=owner, channel="web", action="order.place")
        server, _password = compute.create_server(
            owner=owner, region=catalogue["region"], plan=catalogue["plan"], image=catalogue["image"],
            name="console", instruction=instruction, expires_at=clock.now() + dt.timedelta(days=30))
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.ACTIVE
    return server


@contextlib.contextmanager
def serving_proxy() -> Iterator[int]:
    """`console_proxy.run` on 127.0.0.1 and a free port (yielded) until the block ends."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    listening: list[int] = []
    ready = threading.Event()

    def ready_on(port: int) -> None:
        listening.append(port)
        ready.set()

    thread = threading.Thread(target=loop.run_until_complete,
                              args=(console_proxy.run("127.0.0.1", 0, stop, ready=ready_on),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the console proxy did not start"
        yield listening[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
