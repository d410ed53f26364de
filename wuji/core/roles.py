"""Staff roles (岗位): the one definition of what support, finance, compliance and operations may do.

A role is a Django Group of the same name. What it holds comes from here and nowhere else:

- `CONSOLE`: the model permissions the group holds in the console (/console/), one row per model, one column per
  role, letters v(iew) a(dd) c(hange) d(elete). The model admins may refuse more than a permission allows (a
  record that is never edited refuses change to everyone); they never allow more.
- `EXTRA`: the models' own named permissions (reveal an ID number, review a bank transfer, grant gift credit).
- `CAPABILITIES`: the service-level checks (freeze funds, decide withdrawals, restrict accounts…), which the
  services ask through `can(user, capability)` whatever door the request came through (console, API, portal).

`sync_groups()` (run after every `migrate`, and by `wuji roles sync`) makes each group hold exactly these
permissions, removing any added by hand. Superusers hold everything; docs/roles.md says who should be one. The
console's effective matrix (pages and actions per role) is written in docs/roles.md and checked against the
console by wuji/core/tests/test_roles_matrix.py (decision 0047).
"""

SUPPORT = "support"  # 客服
FINANCE = "finance"  # 财务
COMPLIANCE = "compliance"  # 合规
OPERATIONS = "operations"  # 运维
ROLES = (SUPPORT, FINANCE, COMPLIANCE, OPERATIONS)

# Model permissions in the console. "-": none. Models not listed (auth.group, allauth's sign-in records and
# secrets, support.ticket whose queue goes by role) are for superusers only, or decided by their admin.
_CONSOLE_TABLE = """
model                               support  finance  compliance  operations
abuse.case                          vc       -        vc          -
abuse.partnerfeed                   -        -        vac         -
accounts.accountrestriction         v        -        v           -
accounts.contactflag                vac      -        vac         -
accounts.loginrecord                v        -        v           -
accounts.profile                    v        -        v           -
accounts.securitycase               vc       -        v           -
accounts.user                       v        v        v           v
agreements.acceptance               v        -        v           -
agreements.agreementversion         v        v        v           v
api.apikey                          v        -        -           -
audit.dataaccess                    -        -        v           -
audit.instruction                   v        v        v           v
billing.freeze                      v        vc       vc          -
billing.meter                       -        vc       -           -
billing.order                       v        v        -           -
billing.snapshotmeter               -        v        -           -
billing.subscription                v        v        -           -
catalog.hourlyprice                 v        va       -           v
catalog.image                       v        v        -           vac
catalog.plan                        v        v        -           vac
catalog.price                       v        va       -           v
catalog.region                      v        v        -           vac
catalog.servicefee                  v        va       -           v
catalog.snapshotprice               v        va       -           v
compliance.disclosure               -        -        vac         -
compliance.icpfiling                -        -        vc          -
compute.migrationitem               -        -        -           v
compute.migrationplan               -        -        -           vc
compute.node                        -        -        -           vac
compute.server                      v        v        v           vc
compute.serverpush                  v        -        -           v
compute.snapshot                    v        -        -           v
core.scheduledrun                   -        -        -           v
django_tasks_database.dbtaskresult  -        -        -           v
finance.contract                    -        vc       -           -
finance.fapiaoapplication           -        vc       -           -
finance.generaltaxpayer             -        vac      -           -
identity.falseinformationflag       -        -        vc          -
identity.verification               v        -        vc          -
ledger.account                      -        v        -           -
ledger.transaction                  -        v        -           -
network.blackhole                   -        -        v           vc
network.ipallocation                -        -        v           vc
network.ippool                      -        -        -           vac
network.serveraddress               v        -        v           vc
notifications.deliveryattempt       v        -        v           -
notifications.marketingconsent      -        -        v           -
notifications.notice                v        v        v           v
notifications.wechatbinding         v        -        -           -
payments.bankaccount                -        vc       -           -
payments.banktransfer               -        v        -           -
payments.paymentnotice              -        v        -           -
payments.refund                     -        vc       -           -
payments.topup                      v        v        -           -
payments.withdrawal                 v        vc       -           -
status.announcement                 vac      -        -           vac
status.incident                     vac      v        -           vac
status.maintenancewindow            vacd     -        -           vacd
status.slacredit                    -        vc       -           -
status.slapolicy                    -        vac      -           v
"""

# The models' own permissions (Meta.permissions), by role.
EXTRA = {
    SUPPORT: (),
    FINANCE: ("ledger.grant_gift_credit", "payments.review_banktransfer"),
    COMPLIANCE: ("identity.reveal_identity_number", "compliance.approve_disclosure",
                 "compliance.download_disclosure_export", "compliance.view_identity_statistics"),
    OPERATIONS: (),
}

# Service-level capabilities: which roles the services let do what (superusers: all).
FREEZE_FUNDS = "freeze_funds"  # 冻结资金, decide appeals, lift, refund to source (5.4)
DECIDE_WITHDRAWALS = "decide_withdrawals"  # 提现、退款 (approve, reject, pay out)
PAY_SLA_CREDITS = "pay_sla_credits"  # SLA 赔偿 (8.5): propose, pay, reject
RESTRICT_ACCOUNTS = "restrict_accounts"  # 限制账户功能 (4.5.2.2): restrict and lift
HANDLE_ABUSE = "handle_abuse"  # 滥用案件: triage, message, measures, close
ANNOUNCE_STATUS = "announce_status"  # 公告、维护、故障 (7.1)

CAPABILITIES = {
    FREEZE_FUNDS: (FINANCE, COMPLIANCE),
    DECIDE_WITHDRAWALS: (FINANCE,),
    PAY_SLA_CREDITS: (FINANCE,),
    RESTRICT_ACCOUNTS: (COMPLIANCE,),
    HANDLE_ABUSE: (COMPLIANCE, SUPPORT),
    ANNOUNCE_STATUS: (OPERATIONS, SUPPORT),
}

_LETTERS = {"v": "view", "a": "add", "c": "change", "d": "delete"}


def _parse(table: str) -> dict[str, dict[str, str]]:
    """{model label: {role: letters}} from the table above; a malformed row fails at import."""
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    if tuple(header[1:]) != ROLES:
        raise ValueError(f"roles table header must name {ROLES}")
    parsed = {}
    for row in rows:
        if len(row) != 1 + len(ROLES) or any(set(cell) - set(_LETTERS) - {"-"} for cell in row[1:]):
            raise ValueError(f"malformed roles table row: {row}")
        parsed[row[0]] = dict(zip(ROLES, (cell.replace("-", "") for cell in row[1:]), strict=True))
    return parsed


CONSOLE = _parse(_CONSOLE_TABLE)


def permissions_of(role: str) -> set[str]:
    """Every permission ("app_label.codename") the role's group holds."""
    held = set(EXTRA[role])
    for label, by_role in CONSOLE.items():
        app_label, model = label.split(".")
        held.update(f"{app_label}.{_LETTERS[letter]}_{model}" for letter in by_role[role])
    return held


def roles_with(capability: str) -> tuple[str, ...]:
    return CAPABILITIES[capability]


def can(user, capability: str) -> bool:
    """Whether an active staff member may do this: a superuser, or in a group whose role has the capability."""
    return bool(user and user.is_active and user.is_staff and (
        user.is_superuser or user.groups.filter(name__in=CAPABILITIES[capability]).exists()))


def roles_of(user) -> set[str]:
    """The roles an active staff member holds (a superuser: all of them)."""
    if not (user and user.is_active and user.is_staff):
        return set()
    if user.is_superuser:
        return set(ROLES)
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def sync_groups(using: str = "default", *, strict: bool = True) -> dict[str, tuple[int, int]]:
    """Create the four groups and give each exactly its permissions (extras are removed). Returns {role:
    (added, removed)}. A permission named here that does not exist is an error (`strict`: the table is out of
    date); after a partial migrate (an app migrated back to zero) it is left out instead."""
    from django.contrib.auth.models import Group, Permission
    from django.db import transaction

    changes = {}
    with transaction.atomic(using=using):
        for role in ROLES:
            wanted = permissions_of(role)
            found = {f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.using(using).filter(
                content_type__app_label__in={name.split(".")[0] for name in wanted}).select_related("content_type")}
            missing = wanted - set(found)
            if missing and strict:
                raise LookupError(f"role {role}: no such permission(s): {', '.join(sorted(missing))}")
            wanted -= missing
            group, _created = Group.objects.using(using).get_or_create(name=role)
            held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related(
                "content_type")}
            if held != wanted:
                group.permissions.set([found[name] for name in wanted])
            changes[role] = (len(wanted - held), len(held - wanted))
    return changes


def sync_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate is sent once per app that has models; the groups are synced after the last one, when auth's
    own receiver (connected before ours: auth comes first in INSTALLED_APPS) has made every app's permissions."""
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label == with_models[-1].label:  # apps without models get no post_migrate
        sync_groups(using=using, strict=False)


def drift(using: str = "default") -> dict[str, tuple[set[str], set[str]]]:
    """{role: (missing, extra)} for each group that does not hold exactly its permissions (a missing group:
    everything missing)."""
    from django.contrib.auth.models import Group

    found = {}
    for role in ROLES:
        group = Group.objects.using(using).filter(name=role).first()
        held = set() if group is None else {f"{p.content_type.app_label}.{p.codename}" for p in
                                             group.permissions.select_related("content_type")}
        wanted = permissions_of(role)
        if held != wanted:
            found[role] = (wanted - held, held - wanted)
    return found
