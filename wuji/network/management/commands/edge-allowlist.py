"""`wuji edge-allowlist --format nginx|json [--output PATH]`: the ICP allow-list for the edge.

With --output the file is replaced atomically (written beside it, then renamed), so nginx never reads half a
file; run `nginx -s reload` after it changes."""

import os
import tempfile

from django.core.management.base import BaseCommand

from wuji.network import edge


class Command(BaseCommand):
    help = "Export the ICP allow-list (approved filings, mainland regions: domain -> public IP) for the edge."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=sorted(edge.RENDERERS), default="nginx")
        parser.add_argument("--output", help="file to write (replaced atomically); standard output by default")

    def handle(self, *args, format: str, output: str | None, **options):
        entries = edge.allowlist()
        text = edge.RENDERERS[format](entries)
        if output is None:
            self.stdout.write(text, ending="")
            return
        directory = os.path.dirname(os.path.abspath(output))
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False) as handle:
            handle.write(text)
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, output)
        self.stderr.write(f"{len(entries)} entries written to {output}")
