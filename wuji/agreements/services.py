"""Agreement versions, revision notices and acceptance records (clauses 1.1, 3.4, 11).

A version is in force from its `effective_at` on, by itself: `current_version()` asks the database with the
platform clock every time, so nothing has to "switch" a version on and nothing can cache a stale one.
A revision is published at least WUJI_AGREEMENT_NOTICE_DAYS (7, clause 11) days before it takes effect;
every active customer is told by a mandatory notice, and the portal shows a site-wide banner until then.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.core import clock

from .models import Acceptance, AgreementVersion


def current_version() -> AgreementVersion | None:
    """The version in force now: the latest whose effective date has passed."""
    return AgreementVersion.objects.filter(effective_at__lte=clock.now()).order_by("-effective_at").first()


def pending_version() -> AgreementVersion | None:
    """The next published version not yet in force (the one the site notice announces), if any."""
    return AgreementVersion.objects.filter(effective_at__gt=clock.now()).order_by("effective_at").first()


def versions():
    """Every published version, newest effective date first."""
    return AgreementVersion.objects.order_by("-effective_at")


def notice_period() -> dt.timedelta:
    return dt.timedelta(days=max(7, int(settings.WUJI_AGREEMENT_NOTICE_DAYS)))


def beijing_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment, clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def publish(*, version: str, title: str, body: str, effective_at: dt.datetime | None = None, actor=None,
            channel: str = Channel.STAFF, ip: str | None = None) -> AgreementVersion:
    """Publish a version of the agreement (修订公告).

    The first version ever may take effect at once (a fresh install). Every later one takes effect no earlier
    than the notice period after publication and after every version already published. Publishing the same
    version again with the same text and date returns the existing one (the demo loads it on every run).
    Refusals raise ValidationError keyed by field and change nothing.
    """
    from . import tasks

    now = clock.now()
    version, title, body = (version or "").strip(), (title or "").strip(), body or ""
    errors = {}
    if not version:
        errors["version"] = [_("请填写版本号。")]
    elif len(version) > AgreementVersion._meta.get_field("version").max_length:
        errors["version"] = [_("版本号不能超过 32 个字符。")]
    if not title:
        errors["title"] = [_("请填写标题。")]
    if not body.strip():
        errors["body"] = [_("协议正文不能为空。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = AgreementVersion.objects.select_for_update().filter(version=version).first()
        if existing is not None:
            if existing.title == title and existing.body == body and (
                    effective_at is None or existing.effective_at == effective_at):
                return existing
            raise ValidationError({"version": [_("版本 %(version)s 已发布，已发布的协议不能修改；请使用新的版本号。")
                                               % {"version": version}]})
        latest = AgreementVersion.objects.select_for_update().order_by("-effective_at").first()
        if latest is None:
            effective_at = effective_at or now
        else:
            earliest = now + notice_period()
            if effective_at is None or effective_at < earliest:
                raise ValidationError({"effective_at": [
                    _("协议修订须至少提前 %(days)d 日公告：生效时间不得早于 %(earliest)s（北京时间）。")
                    % {"days": notice_period().days, "earliest": beijing_time(earliest)}]})
            if effective_at <= latest.effective_at:
                raise ValidationError({"effective_at": [
                    _("生效时间须晚于已发布的版本 %(version)s 的生效时间 %(date)s（北京时间）。")
                    % {"version": latest.version, "date": beijing_time(latest.effective_at)}]})
        obj = AgreementVersion.objects.create(version=version, title=title, body=body, published_at=now,
                                              effective_at=effective_at)
        audit.record(actor=actor, owner=None, channel=channel, action="agreement.publish", target=obj,
                     params={"version": version, "effective_at": effective_at.isoformat()}, ip=ip)
        if latest is not None:  # the first version has no one to tell yet
            tasks.notify_revision.enqueue(version_id=obj.pk)
    return obj


def record_acceptance(*, user, version: AgreementVersion, ip: str | None, channel: str) -> Acceptance:
    """Store that `user` accepted `version` (time, IP, channel); accepting twice keeps the first record."""
    obj, _created = Acceptance.objects.get_or_create(
        user=user, version=version, defaults={"accepted_at": clock.now(), "ip": ip or None, "channel": channel}
    )
    return obj


def needs_acceptance(user) -> bool:
    """Whether a customer must accept the version in force before using the portal or the API.

    Staff accounts are operator accounts, not parties to the customer agreement: never gated.
    """
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    # One query on every portal request: "is there a version in force this user has not accepted?" (API key
    # requests get the answer beside the key's own query: api.services.owner_flags, held equal to this).
    return _unaccepted_version_in_force(user).exists()


def _unaccepted_version_in_force(user):
    in_force = AgreementVersion.objects.filter(effective_at__lte=clock.now()).order_by("-effective_at")
    return AgreementVersion.objects.filter(pk=Subquery(in_force.values("pk")[:1])).exclude(acceptances__user=user)


def accept_current(user, *, accepted_version: str, ip: str | None, channel: str) -> Acceptance:
    """A signed-in user accepts the version in force (同意新版协议); `accepted_version` is what they were shown.

    Refused when the version shown is no longer the one in force (it changed while they read).
    """
    with transaction.atomic():
        current = current_version()
        if current is None or accepted_version != current.version:
            raise ValidationError({"version": [_("协议版本已更新，请阅读当前生效的版本后再同意。")]})
        if Acceptance.objects.filter(user=user, version=current).exists():
            return Acceptance.objects.get(user=user, version=current)
        acceptance = record_acceptance(user=user, version=current, ip=ip, channel=channel)
        audit.record(actor=user, owner=user, channel=channel, action="agreement.accept", target=current,
                     params={"version": current.version}, ip=ip)
    return acceptance
