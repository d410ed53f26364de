"""`wuji console-proxy`: the WebSocket ↔ VNC relay that the portal's console page (noVNC) connects to."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from wuji.compute import console_proxy


class Command(BaseCommand):
    help = "Relay noVNC WebSocket connections to servers' VNC displays, admitting single-use console tokens."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=6080)

    def handle(self, *args, host, port, **options):
        asyncio.run(self.serve(host, port))

    async def serve(self, host: str, port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        def ready(bound_port: int) -> None:
            self.stdout.write(self.style.SUCCESS(f"console proxy listening on ws://{host}:{bound_port}/"), ending="\n")
            self.stdout.flush()

        await console_proxy.run(host, port, stop, ready=ready)
