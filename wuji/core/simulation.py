"""`wuji simulate`: run the platform clock forward over a seeded population and report what happened.

Operators use it to preview a policy change (an interval, a grace period, the spending order): set the
environment variables, run `wuji simulate --days 40`, read the day-by-day table. Everything goes through
the real services, tasks and periodic jobs — top-ups arrive as signed sandbox notices, servers are
bought with `place_order`, and each simulated hour runs the scheduler's tick and the task queue — on the
in-memory fake hypervisor. Only the clock is simulated. The figures are counted afterwards from the
ledger, the instruction log and the notices, so the report shows what the platform recorded, not what
the simulation intended.
"""

import dataclasses
import datetime as dt
import random
from collections import Counter, defaultdict

from django.conf import settings
from django.db.models import Count, Sum
from django.test import override_settings

from . import clock, money, scheduler, testing

HOUR = dt.timedelta(hours=1)
NODE_URI = "fake://simulation"

# What happened, by the instruction it left in the log (platform actions and customers' own).
ACTIONS = {
    "server.suspend": "suspended",
    "server.resume": "resumed",
    "server.release": "released",
    "order.place": "orders",
}


@dataclasses.dataclass
class Population:
    customers: int = 12
    seed: int = 1


@dataclasses.dataclass
class Customer:
    user: object
    # "diligent": auto-renew on, tops up whenever the balance runs low; "late": auto-renew on, but tops up only
    # every tenth day (so expiry and arrears suspensions happen and are lifted by payment); "forgetful": never
    # renews or tops up (so servers expire, are suspended and finally released).
    habit: str


def seed(population: Population, rng: random.Random) -> list[Customer]:
    """Customers (verified), their first top-up, and their servers on both billing models."""
    from wuji.billing import services as billing
    from wuji.compute.drivers import get_driver

    from . import demo

    demo.load_catalogue(node_uri=NODE_URI, storage_pool="default")
    driver = get_driver(NODE_URI, virt_type="qemu", pool="default")
    for volume in demo.image_volumes():
        driver.add_image(volume)
    from wuji.catalog.models import Image, Plan, Region

    region = Region.objects.get(code="cn-ganzhou")
    image = Image.objects.filter(is_active=True).order_by("code").first()
    plans = list(Plan.objects.filter(is_active=True).order_by("vcpus", "memory_mib")[:2])
    habits = ["diligent", "forgetful", "late"]
    people = []
    for n in range(population.customers):
        user = testing.make_customer(f"sim{n}@simulation.wuji.local", verified=True)
        habit = habits[n % len(habits)]
        top_up(user, rng.choice([100_00, 200_00, 500_00]))
        plan = plans[n % len(plans)]
        try:
            order, _password = billing.place_order(
                customer=user, region=region, plan=plan, image=image, cycle="monthly", name=f"sim-{n}",
                idempotency_key=f"sim-prepaid-{n}", channel="web", ip=None)
        except billing.PurchaseRefused:
            order = None  # the report's order count shows it
        if order is not None and habit != "forgetful":
            _auto_renew(user)
        place_payg = _payg_purchase()
        if place_payg is not None and n % 2 == 0:
            try:
                place_payg(customer=user, region=region, plan=plans[0], image=image, name=f"sim-payg-{n}",
                           idempotency_key=f"sim-payg-{n}", channel="web", ip=None)
            except billing.PurchaseRefused:
                pass
        people.append(Customer(user=user, habit=habit))
    testing.run_tasks()
    return people


def _auto_renew(user) -> None:
    from wuji.billing import renewals

    for sub in renewals.subscriptions_of(user):
        renewals.set_auto_renew(sub, enabled=True, actor=user, channel="web")


def _payg_purchase():
    """The pay-as-you-go purchase service, where this build has one."""
    try:
        from wuji.billing import payg
    except ImportError:
        return None
    return getattr(payg, "place_payg_order", None)


def top_up(user, amount_fen: int):
    """A real sandbox top-up: create the order, let the sandbox gateway sign its notice, verify and credit."""
    from wuji.payments import services as payments
    from wuji.payments.choices import PaymentChannel

    topup = payments.create_topup(customer=user, amount_fen=amount_fen, channel=PaymentChannel.SANDBOX, ip=None,
                                  via="web")
    return payments.handle_sandbox_notice(payments.sandbox_pay(topup))


def behave(people: list[Customer], day: int, rng: random.Random) -> None:
    """Once a day, customers act by their habit."""
    from wuji.ledger import services as ledger

    for person in people:
        balances = ledger.balances(person.user)
        low = balances["cash"] + balances["gift"] < 50_00
        if person.habit == "diligent" and low:
            top_up(person.user, 200_00)
        elif person.habit == "late" and low and day % 10 == 9:
            top_up(person.user, rng.choice([100_00, 300_00]))


def run(days: int, population: Population, out) -> bool:
    """Seed, run `days` days hour by hour, print the report. Returns True when ledger and audit verify."""
    from wuji.audit import services as audit
    from wuji.ledger import services as ledger

    rng = random.Random(population.seed)
    with override_settings(WUJI_SANDBOX_PAYMENTS=True):
        start = clock.now()
        people = seed(population, rng)
        for day in range(days):
            for _hour in range(24):
                clock.advance(HOUR)
                scheduler.tick(clock.now())
                testing.run_tasks()
            behave(people, day, rng)
            testing.run_tasks()
        end = clock.now()
    report(start, end, out)
    problems = ledger.verify()
    audit_problems = audit.verify()
    out.write("")
    out.write(f"ledger verify: {'OK' if not problems else 'FAILED'}")
    for problem in problems:
        out.write(f"  {problem}")
    out.write(f"audit verify:  {'OK' if not audit_problems else 'FAILED'}")
    for problem in audit_problems:
        out.write(f"  {problem}")
    return not problems and not audit_problems


def report(start: dt.datetime, end: dt.datetime, out) -> None:
    """The day-by-day table (Asia/Shanghai days), counted from what the platform recorded."""
    from wuji.audit.models import Instruction
    from wuji.ledger.models import Posting
    from wuji.notifications.models import Notice

    days: dict[dt.date, Counter] = defaultdict(Counter)

    def day_of(moment: dt.datetime) -> dt.date:
        return moment.astimezone(clock.SHANGHAI).date()

    money_rows = (Posting.objects.filter(transaction__created_at__gte=start, transaction__created_at__lt=end,
                                         account__customer__isnull=False)
                  .values("transaction_id", "transaction__created_at", "transaction__kind")
                  .annotate(total=Sum("amount")))
    for row in money_rows:
        counter = days[day_of(row["transaction__created_at"])]
        counter[f"{row['transaction__kind']}_fen"] += abs(row["total"]) if row["transaction__kind"] in (
            "charge", "withdrawal") else row["total"]
        counter[f"{row['transaction__kind']}_n"] += 1
    instructions = (Instruction.objects.filter(created_at__gte=start, created_at__lt=end, result="accepted",
                                               action__in=list(ACTIONS))
                    .values_list("created_at", "action"))
    for created_at, action in instructions:
        days[day_of(created_at)][ACTIONS[action]] += 1
    notices = Notice.objects.filter(created_at__gte=start, created_at__lt=end).values_list("created_at", "event")
    events = Counter()
    for created_at, event in notices:
        days[day_of(created_at)]["notices"] += 1
        events[event] += 1

    out.write(f"{'day':<12}{'top-ups':>16}{'charges':>18}{'orders':>8}{'notices':>9}"
              f"{'suspended':>11}{'resumed':>9}{'released':>10}")
    totals = Counter()
    for date in sorted(days):
        c = days[date]
        totals.update(c)
        out.write(f"{date.isoformat():<12}"
                  f"{c['topup_n']:>4} {money.format_cny(c['topup_fen']):>11}"
                  f"{c['charge_n']:>5} {money.format_cny(c['charge_fen']):>12}"
                  f"{c['orders']:>8}{c['notices']:>9}{c['suspended']:>11}{c['resumed']:>9}{c['released']:>10}")
    out.write(f"{'total':<12}{totals['topup_n']:>4} {money.format_cny(totals['topup_fen']):>11}"
              f"{totals['charge_n']:>5} {money.format_cny(totals['charge_fen']):>12}"
              f"{totals['orders']:>8}{totals['notices']:>9}{totals['suspended']:>11}{totals['resumed']:>9}"
              f"{totals['released']:>10}")
    if events:
        out.write("")
        out.write("notices by event:")
        for event, count in sorted(events.items()):
            out.write(f"  {event:<40}{count:>6}")
    from wuji.compute.models import Server

    states = Server.objects.values("vm_state").annotate(n=Count("id")).order_by("vm_state")
    out.write("")
    out.write("servers at the end: " + ", ".join(f"{row['vm_state']} {row['n']}" for row in states))
    out.write(f"simulated {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC; settings: spending order "
              f"{settings.WUJI_SPENDING_ORDER}")
