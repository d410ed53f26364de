"""Agreement versions and acceptance records (clauses 1.1, 3.4, 11)."""

from django.db import transaction

from wuji.core import clock

from .models import Acceptance, AgreementVersion


def current_version() -> AgreementVersion | None:
    """The version in force now: the latest whose effective date has passed."""
    return AgreementVersion.objects.filter(effective_at__lte=clock.now()).order_by("-effective_at").first()


def publish(*, version: str, title: str, body: str, effective_at=None) -> AgreementVersion:
    """Publish a version. (Notice periods and user notices come with the compliance work; issue 6.)"""
    now = clock.now()
    with transaction.atomic():
        obj, _created = AgreementVersion.objects.get_or_create(
            version=version,
            defaults={"title": title, "body": body, "published_at": now, "effective_at": effective_at or now},
        )
    return obj


def record_acceptance(*, user, version: AgreementVersion, ip: str | None, channel: str) -> Acceptance:
    obj, _created = Acceptance.objects.get_or_create(
        user=user, version=version, defaults={"accepted_at": clock.now(), "ip": ip or None, "channel": channel}
    )
    return obj
