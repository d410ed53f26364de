import datetime as dt
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wuji.agreements import services
from wuji.core import clock

DEFAULT_TITLE = "武极云用户服务协议"


def parse_effective(text: str) -> dt.datetime:
    """`YYYY-MM-DD` (midnight, Beijing time), `YYYY-MM-DD HH:MM` (Beijing time) or ISO 8601 with an offset."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--effective {text!r}: not a date; use YYYY-MM-DD or 'YYYY-MM-DD HH:MM' "
                           "(Beijing time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.SHANGHAI)


def title_of(body: str) -> str:
    heading = re.search(r"^#\s+(.+?)\s*$", body, re.MULTILINE)
    return heading.group(1).strip() if heading else DEFAULT_TITLE


class Command(BaseCommand):
    help = (
        "User service agreement versions (clause 11). `wuji agreement publish PATH --effective DATE "
        "[--version V --title T]` publishes the Markdown text in PATH; it takes effect by itself on DATE, which "
        "must be at least WUJI_AGREEMENT_NOTICE_DAYS (7) days ahead. `wuji agreement list` shows every version."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        publish = actions.add_parser("publish", help="publish a new version")
        publish.add_argument("path", help="Markdown file with the full text")
        publish.add_argument("--effective", required=True,
                             help="when it takes effect: YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (Beijing time)")
        publish.add_argument("--version", dest="version_label",
                             help="version label (default: the effective date, YYYY-MM-DD)")
        publish.add_argument("--title", help=f"title (default: the file's first '# ' heading, or {DEFAULT_TITLE})")
        actions.add_parser("list", help="list every version and whether it is in force")

    def handle(self, *args, action, **options):
        if action == "list":
            return self._list()
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        body = path.read_text("utf-8")
        effective = parse_effective(options["effective"])
        version = options["version_label"] or effective.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d")
        try:
            obj = services.publish(version=version, title=options["title"] or title_of(body), body=body,
                                   effective_at=effective)
        except ValidationError as exc:
            raise CommandError(f"agreement {version} not published: {'; '.join(exc.messages)}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"agreement {obj.version} ({obj.title}) published; in force from "
            f"{services.beijing_time(obj.effective_at)} Beijing time"))

    def _list(self):
        current = services.current_version()
        for v in services.versions():
            state = "in force" if current and v.pk == current.pk else (
                "pending" if v.effective_at > clock.now() else "superseded")
            self.stdout.write(f"{v.version}\t{state}\t{services.beijing_time(v.effective_at)}\t{v.title}")
