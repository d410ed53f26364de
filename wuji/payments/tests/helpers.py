"""Helpers for the money-out tests: real top-ups through the payment services, staff with roles, and a
scripted gateway registered like a real channel, to drive the pending, failed and unreachable paths."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from wuji.core import clock
from wuji.payments import gateways
from wuji.payments import services as payments
from wuji.payments.models import TopUp

_numbers = itertools.count(1)


def staff(email: str, *roles: str):
    user = get_user_model().objects.create_user(email=email, password="Staff-Pass-2024!", is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def paid_topup(customer, amount_fen: int, channel: str = "sandbox") -> TopUp:
    """A top-up created and confirmed the way a verified channel notice confirms it."""
    n = next(_numbers)
    topup = TopUp.objects.create(customer=customer, channel=channel, amount_fen=amount_fen, created_at=clock.now(),
                                 out_trade_no=f"TTEST{n:08d}")
    return payments.confirm_topup(out_trade_no=topup.out_trade_no, channel_trade_no=f"CH{channel}{n}",
                                  amount_fen=amount_fen, channel=channel)


class ScriptedGateway(gateways.Gateway):
    """A channel whose answers the test scripts: each refund/query call takes the next scripted result
    (a RefundResult, or an exception to raise); it records the refund numbers it was asked for."""

    def __init__(self, channel: str):
        self.channel = channel
        self.script: list = []
        self.refund_calls: list[tuple[str, int, int]] = []
        self.query_calls: list[str] = []
        self.paid: dict[str, int] = {}  # refund_no -> amount, deduplicated as real channels do

    def enabled(self) -> bool:
        return True

    def _next(self):
        outcome = self.script.pop(0) if self.script else gateways.RefundResult(gateways.RefundStatus.SUCCEEDED)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def refund(self, *, out_trade_no, channel_trade_no, refund_no, amount_fen, total_fen, reason):
        self.refund_calls.append((refund_no, amount_fen, total_fen))
        result = self._next()
        if result.status == gateways.RefundStatus.SUCCEEDED:
            self.paid.setdefault(refund_no, amount_fen)
        return result

    def query_refund(self, *, out_trade_no, refund_no):
        self.query_calls.append(refund_no)
        result = self._next()
        if result.status == gateways.RefundStatus.SUCCEEDED:
            self.paid.setdefault(refund_no, 0)
        return result


def result(status: str, no: str = "", message: str = "") -> gateways.RefundResult:
    return gateways.RefundResult(status=status, channel_refund_no=no, message=message)
