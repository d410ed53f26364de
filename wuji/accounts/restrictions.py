"""Selective restriction of account functions (限制账户功能, clause 4.5.2.2).

On a violation staff may restrict some or all of an account's functions — new purchases, renewal (automatic
renewal included), withdrawal, API access — without touching the rest: existing servers keep running, the
balance is untouched, the portal stays usable. Each function is gated where it starts with `require`, which
raises `FunctionRestricted` (stable code `function_restricted`); the gates are in billing (`place_order`,
`place_payg_order`, `renewals.renew`), payments (`check_withdrawal`) and the API key authentication.

Every restriction and lift is an instruction in the audit chain and a mandatory notice to the user.
See docs/decisions/0035-function-restrictions-and-abuse-signals.md.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock, roles

from . import notices
from .choices import RestrictedFunction
from .contacts import deadline_text
from .restriction_models import AccountRestriction

CODE = "function_restricted"


class FunctionRestricted(Exception):
    """The account may not use `function` now. `message` is for the customer (it names the function and the
    reason), `link` is where they see their restrictions, `code` is stable for the API."""

    def __init__(self, message: str, *, function: str, link: str, code: str = CODE):
        super().__init__(message)
        self.message, self.function, self.link, self.code = message, function, link, code


class RestrictionError(Exception):
    """A staff request that cannot be carried out (nothing is written)."""

    def __init__(self, message: str, *, code: str = "restriction_refused"):
        super().__init__(message)
        self.message, self.code = message, code


def can_manage(user) -> bool:
    """Compliance staff (the roles with `restrict_accounts` in wuji/core/roles.py), or a superuser."""
    return roles.can(user, roles.RESTRICT_ACCOUNTS)


def overview_link() -> str:
    return reverse("portal:security")


# --- Reading ------------------------------------------------------------------------------------------------


def open_restrictions_of(user):
    """The user's restrictions in force, newest first (the only queryset customers reach)."""
    return AccountRestriction.objects.filter(user=user, lifted_at__isnull=True)


def is_restricted(user, function: str) -> bool:
    return AccountRestriction.objects.filter(user_id=user.pk, function=function, lifted_at__isnull=True).exists()


def require(user, function: str, *, refuse=None) -> None:
    """The gate of one function: raises FunctionRestricted while an open restriction of it exists — or, with
    `refuse`, the caller's own refusal class, built as `refuse(message, code="function_restricted")`."""
    restriction = AccountRestriction.objects.filter(user_id=user.pk, function=function,
                                                    lifted_at__isnull=True).first()
    if restriction is None:
        return
    link = overview_link()
    message = (_("您的账户已被限制%(function)s（用户服务协议第 4.5.2.2 条），原因：%(reason)s。"
                 "详情见“账户与安全”页面：%(link)s；如有异议，请提交工单联系客服。")
               % {"function": RestrictedFunction.label(function), "reason": restriction.reason, "link": link})
    if refuse is not None:
        raise refuse(message, code=CODE)
    raise FunctionRestricted(message, function=function, link=link)


# --- Staff actions ------------------------------------------------------------------------------------------


def _check_staff(actor) -> None:
    if actor is not None and not can_manage(actor):
        raise RestrictionError(_("只有合规人员可以限制或恢复账户功能。"), code="not_restriction_staff")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RestrictionError(_("请填写原因。"), code="reason_required")
    return reason[:500]


def restrict(*, user, functions, reason: str, actor, ip: str | None = None,
             channel: str = "staff") -> list[AccountRestriction]:
    """Restrict `functions` of `user`'s account (`actor` None: the system did, e.g. an abuse rule). Functions
    already restricted are left as they are; returns the new restrictions. Raises RestrictionError (nothing
    written) for an unknown function, a missing reason, staff without the role, or nothing new to restrict."""
    _check_staff(actor)
    functions = list(dict.fromkeys(functions or ()))
    if not functions or any(f not in RestrictedFunction.values() for f in functions):
        raise RestrictionError(_("请选择要限制的功能。"), code="functions_invalid")
    reason = _reason(reason)
    if user.is_staff:
        raise RestrictionError(_("不能限制工作人员账户的功能。"), code="staff_account")
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
        already = set(open_restrictions_of(user).values_list("function", flat=True))
        new = [f for f in functions if f not in already]
        if not new:
            raise RestrictionError(_("所选功能均已处于限制状态。"), code="already_restricted")
        now = clock.now()
        created = [AccountRestriction.objects.create(user=user, function=f, reason=reason, imposed_by=actor,
                                                     imposed_at=now) for f in new]
        for restriction in created:
            audit.record(actor=actor, owner=user, channel=channel if actor else "system", action="account.restrict",
                         target=restriction, params={"function": restriction.function, "reason": reason}, ip=ip)
        _notify(user, notices.FUNCTIONS_RESTRICTED.code, {
            "functions": "、".join(str(RestrictedFunction.label(f)) for f in new),
            "functions_en": ", ".join(RestrictedFunction.ENGLISH[f] for f in new),
            "reason": reason, "time": deadline_text(now), "link": overview_link()})
    return created


def lift(*, restriction: AccountRestriction, actor, reason: str, ip: str | None = None) -> AccountRestriction:
    """Lift one restriction (恢复功能). Raises RestrictionError (nothing written) when it is already lifted, the
    reason is missing or the staff member lacks the role."""
    _check_staff(actor)
    reason = _reason(reason)
    with transaction.atomic():
        restriction = AccountRestriction.objects.select_for_update().select_related("user").get(pk=restriction.pk)
        if restriction.lifted_at is not None:
            raise RestrictionError(_("该限制已解除。"), code="already_lifted")
        restriction.lifted_at, restriction.lifted_by, restriction.lift_reason = clock.now(), actor, reason
        restriction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit.record(actor=actor, owner=restriction.user, channel="staff" if actor else "system",
                     action="account.restriction_lift", target=restriction,
                     params={"function": restriction.function, "reason": reason}, ip=ip)
        _notify(restriction.user, notices.FUNCTION_RESTRICTION_LIFTED.code, {
            "function": str(RestrictedFunction.label(restriction.function)),
            "function_en": RestrictedFunction.ENGLISH[restriction.function], "reason": reason,
            "time": deadline_text(restriction.lifted_at)})
    return restriction


def _notify(user, event: str, context: dict) -> None:
    from wuji.notifications import services as notifications

    notifications.notify(user, event, context)
