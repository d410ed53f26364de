"""`wuji identity reencrypt`: rewrite stored ID numbers and documents under the newest key."""

from django.core.management.base import BaseCommand

from wuji.identity import services


class Command(BaseCommand):
    help = "Real-name verification maintenance. reencrypt: re-encrypt every stored number and document."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["reencrypt"])

    def handle(self, *args, action: str, **options):
        count = services.reencrypt_all()
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {count} verification(s) with the newest key"))
