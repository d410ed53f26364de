"""`wuji backup`: a consistent snapshot of the database plus its manifest, optionally copied elsewhere."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wuji.core import backup


class Command(BaseCommand):
    help = ("Back up the database (SQLite online backup or pg_dump) with a JSON manifest (checksum, migrations) "
            "into WUJI_BACKUP_DIR, then run WUJI_BACKUP_COPY_COMMAND on both files if it is set.")

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help="destination directory (default: WUJI_BACKUP_DIR)")

    def handle(self, *args, dir=None, **options):
        try:
            path, manifest = backup.create(dir or Path(settings.WUJI_BACKUP_DIR))
        except backup.BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"backup written: {path}"))
        self.stdout.write(f"manifest: {manifest}")
        template = settings.WUJI_BACKUP_COPY_COMMAND
        if not template:
            return
        try:
            backup.copy([path, manifest], template)
        except backup.BackupError as exc:
            raise CommandError(f"the backup is only local, {exc}") from exc
        self.stdout.write(self.style.SUCCESS("copied with WUJI_BACKUP_COPY_COMMAND"))
