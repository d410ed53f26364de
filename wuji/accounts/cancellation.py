"""Account cancellation (注销) by the user themselves (decision 0031).

The account may be cancelled only when nothing ties it to money or service any more; each thing that remains
is a specific Chinese reason. The other apps are asked through their services, never through their models.
Cancelling deactivates the account, ends its sessions and revokes its API keys; personal data, the ledger and
the instruction chain are kept as the law requires (nothing is deleted).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock
from wuji.core.money import format_cny

from . import notices
from .security import end_all_sessions, revoke_all_api_keys


class CancellationRefused(Exception):
    """Something still ties the account to money or service; `reasons` says what, in Chinese."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__(" ".join(reasons))


def _money_obstacles(user, *, lock: bool) -> dict[str, list[str]]:
    from wuji.billing import freezes
    from wuji.ledger import services as ledger

    money = ledger.balances(user, lock=lock)
    found = {}
    held = [label % {"amount": format_cny(money[kind])}
            for kind, label in (("cash", _("现金 %(amount)s")), ("gift", _("赠送金 %(amount)s"))) if money[kind] > 0]
    if held:
        found["balance"] = [_("账户仍有余额：%(items)s。请先提现（或办理退款）、用完赠送金后再注销。")
                            % {"items": "、".join(held)}]
    if money["frozen"] > 0 or freezes.has_open_freeze(user):
        found["frozen"] = [_("账户有资金被冻结（%(frozen)s），须待冻结处理完毕。")
                           % {"frozen": format_cny(money["frozen"])}]
    return found


def _service_obstacles(user) -> dict[str, list[str]]:
    from wuji.compute import services as compute
    from wuji.compute.choices import VmState
    from wuji.finance import services as finance
    from wuji.payments import withdrawals
    from wuji.payments.choices import WithdrawalStatus

    found = {}
    servers = list(compute.servers_of(user).order_by("pk").values_list("name", "vm_state"))
    if servers:
        found["servers"] = [_("账户仍有 %(n)d 台服务器未释放：%(items)s。请先释放服务器。") % {
            "n": len(servers), "items": "、".join(f"{name}（{VmState.label(state)}）" for name, state in servers)}]
    invoices = []
    if finance.has_open_applications(user):
        invoices.append(_("账户有待处理的发票或合同申请。请等待处理完毕或撤销申请。"))
    debt = finance.invoice_debt_fen(user)
    if debt > 0:
        invoices.append(_("账户存在欠票 %(debt)s（已开发票金额超过实际消费），须先冲红或补足。")
                        % {"debt": format_cny(debt)})
    if invoices:
        found["invoices"] = invoices
    if withdrawals.withdrawals_of(user).filter(status__in=WithdrawalStatus.OPEN).exists():
        found["withdrawals"] = [_("账户有处理中的提现。请等待提现完成或撤销。")]
    return found


def obstacles_by_field(user, *, lock: bool = False) -> dict[str, list[str]]:
    """What still ties the account to money or service, as field → Chinese reasons (empty when it may be
    cancelled): `balance`, `frozen`, `servers`, `invoices`, `withdrawals`. The one rule for both the user's own
    cancellation and staff cancelling a membership (2.1.3). `lock=True` inside a transaction holds the balances
    still until the caller commits, so no money arrives between the check and the cancellation."""
    return _money_obstacles(user, lock=lock) | _service_obstacles(user)


def obstacles(user, *, lock: bool = False) -> list[str]:
    """`obstacles_by_field` as one list of reasons, in a stable order."""
    return [reason for reasons in obstacles_by_field(user, lock=lock).values() for reason in reasons]


def cancel_account(user, *, factor: str, channel: str, ip: str | None = None) -> None:
    """Cancel the user's own account after step-up verification with `factor`. Raises CancellationRefused (nothing
    written) while `obstacles` remain or when the account is no longer active. Then, in one transaction: the
    account is deactivated, every session ended and every API key revoked, the instruction `account.cancel` is
    recorded and a mandatory notice is sent (by e-mail and SMS too)."""
    from wuji.notifications import services as notifications

    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise CancellationRefused([_("该账户已注销。")])
        reasons = obstacles(locked, lock=True)
        if reasons:
            raise CancellationRefused(reasons)
        now = clock.now()
        User.objects.filter(pk=locked.pk, is_active=True).update(is_active=False)
        user.is_active = False
        keys = revoke_all_api_keys(user=locked, actor=locked, ip=ip, channel=channel)
        sessions = end_all_sessions(user=locked, ip=ip, record=False)
        audit.record(actor=locked, owner=locked, channel=channel, action="account.cancel", target=locked,
                     params={"factor": factor, "sessions_ended": sessions, "keys_revoked": keys}, ip=ip)
        notifications.notify(locked, notices.ACCOUNT_CANCELLED.code,
                             {"time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")})
