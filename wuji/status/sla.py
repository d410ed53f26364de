"""SLA credits (SLA 赔偿, clause 8.5): staff compute, review and pay compensation for an incident.

Per affected server with a prepaid subscription: its downtime is the part of the incident it lived through
inside the Beijing calendar month the incident started in; the month's availability picks a credit percentage
from the plan's schedule; the credit is that share of the month's fee (the subscription price per month), and
never more than that fee minus what other incidents already credit the same server for the same month, so the
total for a month never exceeds the fee of the service for it (8.5). Paid as gift balance through
`billing.gifts.grant_gift` under the key `sla:<incident>:<server>`: once, whoever clicks twice.
"""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.billing import gifts
from wuji.billing.models import Subscription
from wuji.catalog.choices import BillingCycle
from wuji.compute.choices import VmState
from wuji.compute.models import Server
from wuji.core import clock, roles

from .choices import CreditState, IncidentStatus
from .models import Incident, SlaCredit, SlaPolicy
from .services import StatusRefused, beijing

PAY_ROLES = roles.roles_with(roles.PAY_SLA_CREDITS)  # finance (wuji/core/roles.py)


def can_pay(user) -> bool:
    """Finance staff or a superuser: credits are money."""
    return roles.can(user, roles.PAY_SLA_CREDITS)


def schedule_for(plan) -> tuple[Decimal, list[tuple[Decimal, int]]]:
    """(target %, [(availability below %, credit %), …] highest threshold first) for a plan."""
    policy = SlaPolicy.objects.filter(plan=plan).first()
    target, rows = ((policy.target_percent, policy.schedule) if policy
                    else (Decimal(settings.WUJI_SLA_DEFAULT_TARGET), settings.WUJI_SLA_DEFAULT_SCHEDULE))
    return Decimal(target), sorted(((Decimal(str(below)), int(pct)) for below, pct in rows), reverse=True)


def credit_percent(availability: Decimal, rows: list[tuple[Decimal, int]]) -> int:
    """The largest credit of every tier whose threshold the availability falls below."""
    return max((pct for below, pct in rows if availability < below), default=0)


def month_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = moment.astimezone(clock.SHANGHAI)
    start = dt.datetime(local.year, local.month, 1, tzinfo=clock.SHANGHAI)
    return start.astimezone(dt.UTC), clock.add_months(start, 1)


def month_fee_fen(subscription: Subscription) -> int:
    """The fee of the service for one month: the recorded cycle price over the cycle's months (floor)."""
    return subscription.price_fen // BillingCycle.MONTHS[subscription.cycle]


def affected_servers(incident: Incident):
    """Servers on the incident's nodes (or anywhere in its region) that existed before it ended."""
    servers = Server.objects.exclude(vm_state=VmState.RELEASED).filter(node__isnull=False,
                                                                       created_at__lt=incident.resolved_at)
    node_ids = [n.pk for n in incident.nodes.all()]
    servers = servers.filter(node_id__in=node_ids) if node_ids else servers.filter(node__region=incident.region)
    return servers.select_related("owner", "plan").order_by("pk")


def downtime_in_month(incident: Incident, server: Server) -> tuple[dt.date, int, int]:
    """(month as its first day, downtime seconds in that month, seconds in that month)."""
    month_start, month_end = month_bounds(incident.started_at)
    start = max(incident.started_at, server.created_at, month_start)
    end = min(incident.resolved_at, month_end)
    seconds = max(0, int((end - start).total_seconds()))
    return month_start.astimezone(clock.SHANGHAI).date(), seconds, int((month_end - month_start).total_seconds())


def propose_credits(incident: Incident, *, actor, ip: str | None = None) -> list[SlaCredit]:
    """Compute a credit proposal for every affected server with a subscription, skipping servers that already
    have one for this incident and those whose availability stayed within the schedule. Returns the new rows."""
    if not can_pay(actor):
        raise StatusRefused(_("只有财务人员可以计算和发放 SLA 赔偿。"))
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status != IncidentStatus.RESOLVED or incident.resolved_at is None:
            raise StatusRefused(_("故障解决后才能计算 SLA 赔偿。"))
        done = set(SlaCredit.objects.filter(incident=incident).values_list("server_id", flat=True))
        subscriptions = {s.server_id: s for s in Subscription.objects.filter(server__in=affected_servers(incident))}
        created = []
        for server in affected_servers(incident):
            subscription = subscriptions.get(server.pk)
            if server.pk in done or subscription is None:
                continue
            credit = _proposal(incident, server, subscription)
            if credit is not None:
                credit.save()
                created.append(credit)
        audit.record(actor=actor, owner=None, channel="staff", ip=ip, target=incident, action="sla.propose",
                     params={"credits": [c.pk for c in created], "amount_fen": sum(c.amount_fen for c in created)})
    return created


def _proposal(incident: Incident, server: Server, subscription: Subscription) -> SlaCredit | None:
    month, down, month_seconds = downtime_in_month(incident, server)
    if down == 0:
        return None
    availability = (Decimal(100) * (month_seconds - down) / month_seconds).quantize(Decimal("0.0001"), ROUND_DOWN)
    _target, rows = schedule_for(subscription.plan)
    percent = credit_percent(availability, rows)
    fee = month_fee_fen(subscription)
    already = (SlaCredit.objects.filter(server=server, month=month, state__in=(CreditState.PROPOSED, CreditState.PAID))
               .aggregate(total=Sum("amount_fen"))["total"] or 0)
    amount = min(fee * percent // 100, max(0, fee - already))
    if amount <= 0:
        return None
    return SlaCredit(incident=incident, server=server, customer=server.owner, month=month, downtime_seconds=down,
                     availability=availability, credit_percent=percent, month_fee_fen=fee, amount_fen=amount,
                     proposed_at=clock.now())


def pay_credit(credit: SlaCredit, *, actor, ip: str | None = None) -> SlaCredit:
    """Pay a proposed credit as gift balance with a notice to the customer. A credit is paid once: a second
    request is refused, and the ledger key would return the first transaction anyway."""
    if not can_pay(actor):
        raise StatusRefused(_("只有财务人员可以计算和发放 SLA 赔偿。"))
    with transaction.atomic():
        credit = SlaCredit.objects.select_for_update().select_related("incident", "server").get(pk=credit.pk)
        if credit.state != CreditState.PROPOSED:
            raise StatusRefused(_("该赔偿已%(state)s，不能重复处理。") % {"state": CreditState.label(credit.state)})
        reason = _("SLA 赔偿：故障“%(title)s”（%(start)s 起）期间服务器 %(server)s 中断 %(minutes)s 分钟，"
                   "当月可用性 %(availability)s%%，按当月费用的 %(percent)s%% 赔偿") % {
            "title": credit.incident.title, "start": beijing(credit.incident.started_at), "server": credit.server.name,
            "minutes": credit.downtime_seconds // 60, "availability": credit.availability,
            "percent": credit.credit_percent}
        txn = gifts.grant_gift(customer=credit.customer, amount_fen=credit.amount_fen, reason=reason, actor=actor,
                               key=f"sla:{credit.incident_id}:{credit.server_id}", ip=ip)
        credit.state, credit.decided_by, credit.decided_at, credit.ledger_transaction = (
            CreditState.PAID, actor, clock.now(), txn)
        credit.save(update_fields=["state", "decided_by", "decided_at", "ledger_transaction"])
    return credit


def reject_credit(credit: SlaCredit, *, reason: str, actor, ip: str | None = None) -> SlaCredit:
    if not can_pay(actor):
        raise StatusRefused(_("只有财务人员可以计算和发放 SLA 赔偿。"))
    reason = (reason or "").strip()
    if not reason:
        raise StatusRefused(_("请填写驳回原因。"))
    with transaction.atomic():
        credit = SlaCredit.objects.select_for_update().get(pk=credit.pk)
        if credit.state != CreditState.PROPOSED:
            raise StatusRefused(_("该赔偿已%(state)s，不能重复处理。") % {"state": CreditState.label(credit.state)})
        credit.state, credit.decided_by, credit.decided_at = CreditState.REJECTED, actor, clock.now()
        credit.save(update_fields=["state", "decided_by", "decided_at"])
        audit.record(actor=actor, owner=credit.customer, channel="staff", ip=ip, target=credit, action="sla.reject",
                     params={"amount_fen": credit.amount_fen, "reason": reason[:200]})
    return credit
