from django.core.management.base import BaseCommand, CommandError

from wuji.core import roles


class Command(BaseCommand):
    help = ("Staff roles (wuji/core/roles.py, docs/roles.md). `wuji roles sync` creates the groups support, "
            "finance, compliance and operations and gives each exactly its permissions, removing any others; "
            "`wuji roles check` only reports (exit 1) a group that differs. `migrate` syncs by itself.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync", "check"])

    def handle(self, *args, action, **options):
        if action == "check":
            return self._check()
        try:
            changes = roles.sync_groups()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        for role, (added, removed) in changes.items():
            self.stdout.write(f"{role}: {len(roles.permissions_of(role))} permission(s), {added} added, "
                              f"{removed} removed")
        self.stdout.write(self.style.SUCCESS("roles synced"))
        return None

    def _check(self):
        drift = roles.drift()
        for role, (missing, extra) in drift.items():
            for name in sorted(missing):
                self.stderr.write(f"{role}: missing {name}")
            for name in sorted(extra):
                self.stderr.write(f"{role}: extra {name}")
        if drift:
            raise CommandError("the staff groups differ from wuji/core/roles.py; run `wuji roles sync`")
        self.stdout.write(self.style.SUCCESS("the staff groups hold exactly their permissions"))
