"""`wuji restore FILE`: check a backup against its manifest, then load it into the configured database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wuji.core import backup


class Command(BaseCommand):
    help = ("Restore a `wuji backup` file into the configured database. The checksum is verified first; "
            "the database must be empty (a fresh one) unless --force replaces its contents.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the backup file (its manifest FILE.json next to it)")
        parser.add_argument("--force", action="store_true", help="replace the contents of a non-empty database")

    def handle(self, *args, file, force, **options):
        try:
            manifest = backup.restore(file, force=force)
        except backup.BackupError as exc:
            raise CommandError(f"restore refused: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"restored {file} ({manifest['engine']}, taken {manifest['created_at']})"))
        self.stdout.write("next: `wuji migrate` if the code is newer, then `wuji ledger verify`, `wuji audit verify`")
