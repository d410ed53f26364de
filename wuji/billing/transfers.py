"""Billing's side of a server push (服务器push, clause 3.2): from the moment a server changes hands, its
future renewals and its pay-as-you-go usage are the receiver's; everything before stays the sender's.

Compute's push acceptance calls this inside its transaction, in two steps, so that rows are locked in the
order the rest of billing uses — a subscription before its customer's accounts and the server (as renewals
do), a meter after the server and the accounts (as compute's checkpoints and the hourly settlement do):

1. `begin(server_id, sender)` before the server row is locked: locks the prepaid subscription (if any), then
   the sender's accounts (a push fee and the last usage are charged to the sender);
2. `Handover.complete(sender=…, receiver=…, at=…, key=…)` after it: moves the subscription, or settles the
   sender's pay-as-you-go usage up to `at` and moves the meter.

See docs/decisions/0023-server-push.md.
"""

import dataclasses
import datetime as dt

from django.utils.translation import gettext as _

from wuji.core import money
from wuji.ledger import services as ledger

from .models import Meter, Subscription
from .models.payg import UNITS_PER_FEN
from .payg import accrue
from .services import charge


class TransferRefused(Exception):
    """The server cannot change hands now; the message is for the customer, `code` names it for the API."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def arrears_fen(server) -> int:
    """Unpaid pay-as-you-go usage of the server (欠费), 0 for a prepaid server. A read for early refusals;
    `Handover.complete` checks again under the meter's lock."""
    return Meter.objects.filter(server=server).values_list("debt_fen", flat=True).first() or 0


def refuse_arrears(debt_fen: int) -> None:
    if debt_fen > 0:
        raise TransferRefused(_("该服务器有未结清的按量付费欠费 %(yuan)s 元，请转出方先充值结清后再转让。")
                              % {"yuan": money.fen_to_yuan(debt_fen)}, code="server_in_arrears")


@dataclasses.dataclass
class Handover:
    """Billing's part of one acceptance, begun before the server row is locked."""

    server_id: int
    subscription: Subscription | None

    def complete(self, *, sender, receiver, at: dt.datetime, key: str) -> None:
        """Make the receiver the payer from `at`. Raises TransferRefused (nothing written then)."""
        if self.subscription is not None:
            _move_subscription(self.subscription, receiver)
        meter = Meter.objects.select_for_update().filter(server_id=self.server_id).first()
        if meter is not None:
            _move_meter(meter, sender=sender, receiver=receiver, at=at, key=key)


def begin(server_id: int, sender) -> Handover:
    """Lock the server's prepaid subscription (if it has one), then the sender's accounts, ahead of the server."""
    subscription = Subscription.objects.select_for_update().filter(server_id=server_id).first()
    ledger.balances(sender, lock=True)
    return Handover(server_id, subscription)


def _move_subscription(sub: Subscription, receiver) -> None:
    """Renewals from now on charge the receiver. Auto-renewal is switched off (the receiver never agreed to be
    charged automatically) and the paid amounts restart at zero, so a later refund of unused time can never pay
    the sender's money out to the receiver (decision 0023)."""
    sub.customer = receiver
    sub.auto_renew = False
    sub.paid_cash_fen = sub.paid_gift_fen = 0
    sub.save(update_fields=["customer", "auto_renew", "paid_cash_fen", "paid_gift_fen"])


def _move_meter(meter: Meter, *, sender, receiver, at: dt.datetime, key: str) -> None:
    """Charge the sender now for the usage up to `at` (whole fen, the sub-fen remainder carries on as for any
    settlement), then meter the receiver from `at`. Refused when the meter is in arrears or the sender's
    balance does not cover that usage."""
    refuse_arrears(meter.debt_fen)
    accrue(meter, at)
    exact = meter.accrued + meter.carried
    fen = exact // UNITS_PER_FEN
    if fen > 0:
        try:
            charge(sender, amount=fen, key=f"{key}:usage", cause=("server", meter.server_id),
                   memo=_("按量付费结算（服务器转让前）"))
        except ledger.InsufficientFunds as exc:
            raise TransferRefused(
                _("转出方余额不足以结清该服务器转让前的按量费用 %(yuan)s 元，暂不能接收；请联系转出方充值。")
                % {"yuan": money.fen_to_yuan(fen)}, code="sender_insufficient_balance") from exc
    meter.charged_fen += fen
    meter.carried, meter.accrued = exact - fen * UNITS_PER_FEN, 0
    meter.customer = receiver
    # An idempotency key belongs to the customer who sent it; the receiver never did.
    meter.idempotency_key = key[:100]
    meter.save(update_fields=["accrued", "carried", "metered_until", "charged_fen", "customer", "idempotency_key"])
