"""`wuji serve`: the whole platform on one machine — web server, one task worker and the scheduler."""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server (gunicorn), one task worker and the scheduler until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args, host, port, web_workers, **options):
        wuji = [sys.executable, "-m", "wuji.cli"]
        commands = {
            "web": [sys.executable, "-m", "gunicorn", "wuji.wsgi:application", "--bind", f"{host}:{port}",
                    "--workers", str(web_workers), "--access-logfile", "-", "--graceful-timeout", "5"],
            "worker": [*wuji, "worker"],
            "scheduler": [*wuji, "scheduler"],
        }
        procs = {name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"武极云 Wuji Cloud is running on http://{host}:{port}/ "
                                             f"(console: http://{host}:{port}/console/) — Ctrl+C stops it"))
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping the platform")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 10
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
