"""Presentation helpers for the portal: money in 元, state badges coloured from the ChoiceSets."""

from django import template
from django.utils.html import format_html

from wuji.audit.choices import Channel, Result
from wuji.compute.choices import Operation, TaskState, VmState
from wuji.core import money
from wuji.ledger.choices import TransactionKind
from wuji.network.choices import AddressState
from wuji.payments.choices import BankTransferStatus, TopUpStatus

from ..labels import action_label as _action_label
from ..labels import target_label as _target_label
from ..markdown import render_markdown

register = template.Library()

BADGE_SETS = {
    "vm_state": VmState,
    "task_state": TaskState,
    "result": Result,
    "topup": TopUpStatus,
    "bank_transfer": BankTransferStatus,
    "channel": Channel,
    "txn_kind": TransactionKind,
    "operation": Operation,
    "ip_state": AddressState,
}


@register.filter
def cny(fen) -> str:
    """Integer fen as ¥1,234.56; empty for None."""
    if fen is None or fen == "":
        return ""
    return money.format_cny(int(fen))


@register.filter
def cny_signed(fen) -> str:
    """A balance change: +¥10.00 / -¥29.00; empty when there was none."""
    if not fen:
        return ""
    return ("+" if fen > 0 else "") + money.format_cny(int(fen))


@register.filter
def badge(value, choice_set: str):
    """`{{ server.vm_state|badge:"vm_state" }}` → a coloured label. An operation in flight pulses."""
    choices = BADGE_SETS[choice_set]
    colour = "busy" if choice_set == "task_state" and value else choices.colour(value)
    return format_html('<span class="badge badge-{}">{}</span>', colour, choices.label(value))


@register.filter
def action_label(action: str) -> str:
    return _action_label(action)


@register.filter
def target_label(target_type: str) -> str:
    return _target_label(target_type)


@register.filter
def markdown(text: str):
    return render_markdown(text)


@register.filter
def mib_as_gib(mib: int) -> str:
    gib = mib / 1024
    return f"{gib:g}"
