"""Who checks an identity. A passed checksum is never a verification: every application goes to a provider.

`ManualReviewProvider` (the default) leaves the application pending for staff to approve or reject in the
console. `TwoFactorCheckProvider` is the base for an external 二要素 check (name + ID number) through a
licensed verification channel: a subclass implements `check()`; a match approves automatically, a
mismatch rejects with the channel's reason, and anything else (channel down, enterprise applications,
which need the licence read) falls back to manual review.

Configured by `WUJI_IDENTITY_PROVIDER`: "manual" or the dotted path of a provider class.
"""

import dataclasses

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a provider decided: "approve", "reject" or "pending" (left for staff)."""

    decision: str
    reason: str = ""
    reference: str = ""


PENDING = Outcome("pending")


class IdentityProvider:
    code = "base"

    def assess(self, *, kind: str, name: str, number: str) -> Outcome:
        """Called after commit of a new application with the plain number. Must not raise for a mismatch;
        raising means "could not check" and leaves the application for manual review."""
        raise NotImplementedError


class ManualReviewProvider(IdentityProvider):
    """Staff review every application in the operator console."""

    code = "manual"

    def assess(self, *, kind: str, name: str, number: str) -> Outcome:
        return PENDING


@dataclasses.dataclass(frozen=True)
class TwoFactorResult:
    matched: bool | None  # None: the channel could not say (no record, service error)
    reference: str = ""
    message: str = ""


class TwoFactorCheckProvider(IdentityProvider):
    """Adapter base for an external name + ID-number check (二要素核验). Individuals only."""

    code = "two-factor"

    def check(self, *, name: str, id_number: str) -> TwoFactorResult:  # pragma: no cover - vendor-specific
        raise NotImplementedError

    def assess(self, *, kind: str, name: str, number: str) -> Outcome:
        if kind != "individual":
            return PENDING
        result = self.check(name=name, id_number=number)
        if result.matched is True:
            return Outcome("approve", reference=result.reference)
        if result.matched is False:
            return Outcome("reject", reason=result.message or _("姓名与身份证号码不一致。"), reference=result.reference)
        return Outcome("pending", reason=result.message, reference=result.reference)


def get_provider() -> IdentityProvider:
    configured = settings.WUJI_IDENTITY_PROVIDER or "manual"
    if configured == "manual":
        return ManualReviewProvider()
    return import_string(configured)()
