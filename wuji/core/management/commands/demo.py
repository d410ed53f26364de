"""`wuji demo`: migrate, load the demo catalogue, create a staff account, print it, and serve."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from wuji.accounts import services as accounts
from wuji.core import demo

STAFF_EMAIL = "admin@wuji.local"


class Command(BaseCommand):
    help = "Set up the demo (SQLite, demo catalogue, libvirt test hypervisor, staff account) and start it."

    def add_arguments(self, parser):
        parser.add_argument("--setup-only", action="store_true", help="set up, print credentials, do not serve")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, setup_only, port, **options):
        call_command("migrate", interactive=False, verbosity=0)
        demo.load_catalogue(node_uri="test:///default", storage_pool="default-pool")
        password = secrets.token_urlsafe(12)
        User = get_user_model()
        staff = User.objects.filter(email=STAFF_EMAIL).first()
        if staff is None:
            accounts.create_staff(email=STAFF_EMAIL, password=password)
        else:
            staff.set_password(password)
            staff.save(update_fields=["password"])
        out = self.stdout
        out.write(self.style.SUCCESS("Demo ready."))
        out.write("  Compute node demo-node-1 uses libvirt's built-in TEST hypervisor (test:///default):")
        out.write("  servers are simulated inside the worker process, not real VMs, and vanish when it restarts.")
        if os.environ.get("WUJI_DEMO_QEMU") == "1":
            node = demo.add_qemu_node()
            out.write(f"  Compute node {node.name} ({node.region.name_en}) is this machine's real QEMU ({node.uri}):")
            out.write("  order the tiny-linux image there; it boots the tiny test guest (serial log under")
            out.write("  /var/log/libvirt/qemu/). Other images have no volume on that node.")
        out.write(f"  Operator console: http://127.0.0.1:{port}/console/")
        out.write(f"  Staff login:      {STAFF_EMAIL}")
        out.write(f"  Staff password:   {password}")
        if not setup_only:
            call_command("serve", port=port)
