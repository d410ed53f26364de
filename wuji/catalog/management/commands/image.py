from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wuji.catalog import services


class Command(BaseCommand):
    help = (
        "OS image tools. `wuji image register CODE --volume V [--kernel K --initrd I --cmdline C]` creates or "
        "updates a catalogue image whose volumes are in the nodes' storage pools (a kernel: direct kernel boot)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        register = actions.add_parser("register", help="create or update an image")
        register.add_argument("code")
        register.add_argument("--volume", required=True, help="the base volume server disks overlay")
        register.add_argument("--kernel", default="", help="kernel volume to boot directly (default: boot the disk)")
        register.add_argument("--initrd", default="", help="initrd volume (needs --kernel)")
        register.add_argument("--cmdline", default="", help="kernel command line (needs --kernel)")
        register.add_argument("--name-zh", help="Chinese name (default: kept, or the code for a new image)")
        register.add_argument("--name-en", help="English name (default: kept, or the code for a new image)")

    def handle(self, *args, action, code, volume, kernel, initrd, cmdline, name_zh, name_en, **options):
        try:
            image = services.register_image(code=code, volume=volume, kernel_volume=kernel, initrd_volume=initrd,
                                            kernel_cmdline=cmdline, name_zh=name_zh, name_en=name_en)
        except ValidationError as exc:
            raise CommandError(f"image {code} not registered: {'; '.join(exc.messages)}") from exc
        boot = f"kernel {image.kernel_volume}" if image.kernel_volume else "disk"
        self.stdout.write(self.style.SUCCESS(f"image {image.code}: volume {image.volume}, boots {boot}"))
