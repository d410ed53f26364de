"""Every customer-portal form, fed hypothesis-generated input, answers without a 5xx, and a refusal writes nothing
(issue 8, security).

The POST routes are enumerated from the URL configuration (the walk of wuji/api/tests/test_owner_matrix.py):
each is either fuzzed (FUZZED: its form's field names and the tables its success would write; CALLBACKS: the
payment channels' notices) or listed in NOT_FUZZED with the reason. A new POST route in no table fails the test.
Forms on an object (a ticket, a withdrawal, a push...) fuzz one the World makes first through the services.

Requests go through Django's test client, which does not enforce CSRF: the fuzz is of the form handling behind
the token, not of the token check.
"""

import datetime as dt
import inspect
import itertools
import uuid

import pytest
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.contrib import messages
from django.forms import BaseForm
from django.test import Client
from django.urls import get_resolver, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wuji.abuse import services as abuse
from wuji.abuse.choices import ActionKind
from wuji.accounts.tests.helpers import enable_totp, totp
from wuji.agreements import services as agreements
from wuji.api import services as api_keys
from wuji.api.tests.test_owner_matrix import _walk
from wuji.api.tests.world import signed_in
from wuji.audit.choices import Result
from wuji.billing import freezes
from wuji.billing import services as billing
from wuji.billing.models import Subscription
from wuji.compliance import services as compliance
from wuji.compute import push as pushes
from wuji.compute import snapshots
from wuji.core import clock, testing
from wuji.finance import services as finance
from wuji.network import services as network
from wuji.network.tests.test_network import make_pool
from wuji.payments import services as payments
from wuji.payments import withdrawals
from wuji.payments.tests.helpers import paid_topup, staff
from wuji.status import services as status
from wuji.status.models import Announcement
from wuji.support import services as support

from .conftest import buy_server

NAMESPACES = ("portal", "support", "abuse", "status")

# Tables any refusal must leave as they were, beside the form's own model. A refusal by a service may add an
# instruction whose result is "refused" (the log records refused instructions too, by design): only the other
# instructions are counted.
ALWAYS_COUNTED = ("audit.Instruction", "ledger.Transaction")

# route name -> (URL kwargs: keyword -> an object of the fuzz world (World below), field names, models a success
# would add rows to)
FUZZED: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]] = {
    "portal:ticket_new": ({}, ("category", "priority", "server", "subject", "body"), ("support.Ticket",)),
    "portal:snapshot_create": ({"pk": "server"}, ("name", "idempotency_key"), ("compute.Snapshot",)),
    "portal:server_action": ({"pk": "server"}, ("operation", "image", "ssh_key", "key_only", "idempotency_key"),
                             ()),
    "portal:api_keys": ({}, ("name", "scopes", "allowed_ips", "expires_at"), ("api.ApiKey",)),
    "portal:push_offer": ({"pk": "server"}, ("receiver", "idempotency_key"), ("compute.ServerPush",)),
    "portal:bank_account_add": ({}, ("holder", "bank", "branch", "number"), ("payments.BankAccount",)),
    "portal:buy_confirm": ({}, ("region", "plan", "image", "cycle", "name", "expected_amount", "idempotency_key"),
                           ("billing.Order",)),
    "portal:wallet": ({}, ("amount",), ("payments.TopUp",)),
    "portal:bank_transfer": ({}, ("amount", "payer_name", "payer_bank", "transfer_date", "reference"),
                             ("payments.BankTransfer",)),
    "portal:withdraw": ({}, ("amount", "bank_account", "idempotency_key", "step_up_totp"),  # step-up protected
                        ("payments.Withdrawal",)),
    "portal:step_up": ({}, ("operation", "factor", "secret", "verify", "next"), ()),
    "portal:security_question": ({}, ("question", "answer"), ()),
    "portal:icp_filings": ({}, ("domain", "icp_number", "server"), ("compliance.IcpFiling",)),
    "portal:finance": ({}, ("amount", "fapiao_type", "medium", "email", "mailing_address", "registered_address",
                            "registered_phone", "bank_name", "bank_account", "idempotency_key"),
                       ("finance.FapiaoApplication",)),
    "portal:payg_buy": ({}, ("region", "plan", "image", "name", "idempotency_key"), ("billing.Meter",)),
    "portal:contract_apply": ({}, ("order",), ("finance.Contract",)),
    "abuse:complain": ({}, ("category", "target", "occurred_at", "description", "reporter_name", "reporter_email",
                            "reporter_phone"), ("abuse.Case",)),
    # Forms on an object the customer has: the World makes it first (its `_<name>` methods), the URL names it.
    # Views that read no field get the fields their template posts (or `confirm`): the fuzz is then of the extra
    # input and of the object's state, which the first success changes (a second close or cancel is refused).
    "status:dismiss_announcement": ({"pk": "announcement"}, ("next",), ()),
    "abuse:case": ({"pk": "abuse_case"}, ("text",), ("abuse.CaseMessage", "abuse.Evidence")),
    "portal:agreement_accept": ({}, ("accept_agreement", "agreement_version", "next"), ("agreements.Acceptance",)),
    "portal:sandbox_pay": ({"out_trade_no": "topup"}, ("confirm",), ("payments.PaymentNotice",)),
    "portal:server_ip_action": ({"pk": "server"}, ("action", "idempotency_key"), ("network.IpAllocation",)),
    "portal:inbox_mark_read": ({}, ("notice", "all"), ()),
    "portal:api_key_revoke": ({"pk": "api_key"}, ("confirm",), ()),
    "portal:identity": ({}, ("kind", "individual-name", "individual-id_number", "enterprise-company_name",
                             "enterprise-credit_code", "enterprise-legal_representative"), ("identity.Verification",)),
    "portal:profile": ({}, ("real_name", "address", "nationality", "province", "city", "time_zone", "post_code", "fax",
                            "homepage", "job_title", "qq"), ("accounts.Profile",)),
    "portal:contact_change": ({"kind": "contact_kind"}, ("start", "confirm", "new_address", "new_code", "old_code"),
                              ("accounts.OneTimeCode", "accounts.ContactFlag")),
    "portal:session_end": ({"pk": "session"}, ("confirm",), ()),
    "portal:data_export": ({}, ("confirm",), ("audit.Instruction",)),  # the export is an instruction
    "portal:ticket": ({"pk": "ticket"}, ("body",), ("support.TicketMessage", "support.TicketAttachment")),
    "portal:ticket_close": ({"pk": "ticket"}, ("confirm",), ()),
    "portal:ticket_reopen": ({"pk": "closed_ticket"}, ("confirm",), ()),
    "portal:ticket_rate": ({"pk": "closed_ticket"}, ("rating", "comment"), ()),
    "portal:notification_settings": ({}, ("action", "on", "text_version"),
                                     ("notifications.MarketingConsent", "notifications.NoticePreference")),
    "portal:subscription_renew": ({"pk": "subscription"}, ("cycles", "expected_period_end", "idempotency_key"),
                                  ("billing.SubscriptionCharge",)),
    "portal:subscription_auto_renew": ({"pk": "subscription"}, ("enabled", "next"), ()),
    "portal:subscription_change_plan": ({"pk": "subscription"}, ("plan", "expected_amount", "idempotency_key"),
                                        ("billing.SubscriptionCharge",)),
    "portal:freeze": ({"pk": "freeze"}, ("text",), ("billing.Appeal", "billing.FreezeFile")),
    "portal:withdrawal_cancel": ({"pk": "withdrawal"}, ("confirm",), ()),
    "portal:bank_account_remove": ({"pk": "bank_account"}, ("confirm",), ()),
    "portal:fapiao_cancel": ({"pk": "fapiao"}, ("confirm",), ()),
    "portal:push_accept": ({"pk": "push"}, ("confirm",), ()),  # by the receiver, after step-up
    "portal:push_decline": ({"pk": "push"}, ("confirm",), ()),  # by the receiver
    "portal:push_cancel": ({"pk": "push"}, ("confirm",), ()),
    "portal:snapshot_revert": ({"pk": "server", "snapshot_pk": "snapshot"}, ("confirm", "idempotency_key"), ()),
    "portal:snapshot_delete": ({"pk": "server", "snapshot_pk": "snapshot"}, ("confirm", "idempotency_key"), ()),
    "portal:server_console": ({"pk": "server"}, ("confirm",), ("compute.ConsoleToken",)),
    "portal:icp_filing_withdraw": ({"pk": "icp_filing"}, ("confirm",), ()),
}

# Forms posted by the receiver of the customer's server push (the customer may only withdraw the offer).
AS_RECEIVER = {"portal:push_accept", "portal:push_decline"}

# Forms fuzzed after step-up verification (otherwise every post stops at the verification redirect).
STEP_UP = {"portal:contact_change": "contact_change", "portal:data_export": "data_export",
           "portal:push_accept": "server_push"}

# Forms that read nothing a customer could get wrong and name no object in their URL: they never refuse, so
# "a refusal writes nothing" has nothing to check. Instead every post must be accepted (generated input may not
# change the outcome), and where a success adds no row (models empty) no post may add one.
ALWAYS_ACCEPTED = {
    "portal:inbox_mark_read": "marks the customer's own notices read; values that are not their notices are ignored",
    "portal:data_export": "after step-up, a download of the customer's own data; it reads no field",
}

# Fields whose value chooses the code path (route -> field -> values; "*": every route): generated values alone
# would almost never take it. Each value is posted once as an explicit example (the other fields "1"), and the
# generated examples draw these values as often as arbitrary ones.
PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "*": {"accept_agreement": ("on",), "confirm": ("on",), "enabled": ("1", "0"), "rating": ("1", "5"),
          "kind": ("individual", "enterprise"), "cycles": ("1", "37")},
    "portal:notification_settings": {"action": ("preferences", "grant", "withdraw", "unbind_wechat")},
    "portal:server_ip_action": {"action": ("unbind", "bind")},
}


def _paths(name: str, fields) -> dict[str, tuple[str, ...]]:
    paths = {**PATHS["*"], **PATHS.get(name, {})}
    return {field: paths[field] for field in fields if field in paths}


# Forms about the session or the account itself, fuzzed with a client prepared before every example: signed out
# (the anonymous forms), signed in again (the forms that end the session), or signed in as a new customer (the
# forms whose success locks or closes the account; the value: the step-up operation passed first, if any).
ANONYMOUS = {"portal:register", "portal:recover"}
SIGN_IN_AGAIN = {"portal:logout", "portal:session_end_all"}
FRESH_ACCOUNT: dict[str, str | None] = {"portal:report_unauthorised": None, "portal:cancel_account": "account_cancel"}
# Generated examples per form: 15, fewer where each example first makes a customer (about 1 s each).
EXAMPLES = {name: 5 for name in FRESH_ACCOUNT}
FUZZED.update({
    "portal:register": ({}, ("email", "password1", "password2", "phone", "phone_code", "agreement_version",
                             "accept_agreement", "send_code"), ("accounts.User", "accounts.OneTimeCode")),
    "portal:recover": ({}, ("start", "recover", "identifier", "code", "answer", "new_password"),
                       ("accounts.OneTimeCode",)),
    "portal:logout": ({}, ("next",), ("accounts.LoginRecord",)),
    "portal:session_end_all": ({}, ("keep_current",), ("accounts.LoginRecord",)),
    "portal:report_unauthorised": ({}, ("description", "confirm"), ("accounts.SecurityCase",)),
    "portal:cancel_account": ({}, ("confirm",), ()),
})
ALWAYS_ACCEPTED.update({
    "portal:logout": "signs out whatever is posted (allauth's view); `next` only chooses where to",
    "portal:session_end_all": "ends the sessions whatever is posted; `keep_current` only chooses which",
})

# The payment channels' callbacks (route -> channel): not customer forms, fuzzed by
# test_payment_callback_survives_generated_input below.
CALLBACKS = {"portal:sandbox_notify": "sandbox", "portal:alipay_notify": "alipay", "portal:wechat_notify": "wechat"}

# POST routes not fuzzed, with the reason (none at present).
NOT_FUZZED: dict[str, str] = {}


def _allowed_methods(view) -> list[str] | None:
    """The method list a require_http_methods/require_POST decorator closed over, if any."""
    while view is not None:
        for cell in view.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if isinstance(value, list | tuple) and value and all(isinstance(m, str) and m.isupper() for m in value):
                return list(value)
        view = getattr(view, "__wrapped__", None)
    return None


def _accepts_post(pattern) -> bool:
    """A class-based view with post(); a function view restricted to POST, or one that reads request.POST."""
    view = pattern.callback
    if hasattr(view, "view_class"):
        return hasattr(view.view_class, "post")
    allowed = _allowed_methods(view)
    if allowed is not None:
        return "POST" in allowed
    return "POST" in inspect.getsource(inspect.unwrap(view))


def portal_post_routes() -> set[str]:
    return {name for _route, name, pattern in _walk(get_resolver().url_patterns)
            if name.split(":")[0] in NAMESPACES and _accepts_post(pattern)}


def test_every_portal_post_route_is_fuzzed_or_excused():
    names = portal_post_routes()
    assert len(names) > 40 and "portal:ticket_new" in names and "portal:servers" not in names  # the walk works
    tables = (set(FUZZED), set(CALLBACKS), set(NOT_FUZZED))
    missing = sorted(names - set().union(*tables))
    assert not missing, f"add these POST routes to FUZZED (or NOT_FUZZED with a reason): {missing}"
    assert sum(map(len, tables)) == len(set().union(*tables)), "a route is in more than one table"
    assert not sorted(set().union(*tables) - names), "the tables name routes that no longer take POST"


_text = st.text(max_size=80)  # any unicode, surrogates excluded by hypothesis's default alphabet
VALUES = st.one_of(
    _text,
    _text.map(lambda s: s + "\x00" + s),  # NUL bytes: PostgreSQL refuses them in text columns
    st.integers(min_value=1000, max_value=20000).map(lambda n: "长" * n),  # far beyond every max_length
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.just(""),
    st.just(str(uuid.UUID(int=0))),
    st.lists(_text, min_size=2, max_size=3),  # a field sent several times
)


def _counts(labels) -> dict[str, int]:
    def rows(label: str) -> int:
        model = apps.get_model(label)
        if label == "audit.Instruction":
            return model.objects.exclude(result=Result.REFUSED).count()
        return model.objects.count()

    return {label: rows(label) for label in labels}


def _new_messages(response) -> list:
    """The messages this request added (the storage's queue; earlier ones wait unread, as no redirect is followed)."""
    storage = getattr(response.wsgi_request, "_messages", None)
    return list(storage._queued_messages) if storage is not None else []


# Forms whose success is announced with a warning (so only an error message marks a refusal).
SUCCESS_WARNS = {"portal:report_unauthorised": "the account is locked: a success, told as a warning"}


def _refused(response, name: str = "") -> bool:
    """A 4xx; a redirect to step-up verification or with an error message; or the form re-rendered with errors."""
    if 400 <= response.status_code < 500:
        return True
    if response.status_code == 302 and response.url.startswith(reverse("portal:step_up")):
        return True
    level = messages.ERROR if name in SUCCESS_WARNS else messages.WARNING
    if any(m.level >= level for m in _new_messages(response)):
        return True
    context = response.context  # one Context, a ContextList of several, or None (no template rendered)
    contexts = [] if context is None else [context] if hasattr(context, "flatten") else list(context)
    return any(isinstance(value, BaseForm) and value.is_bound and value.errors
               for each in contexts for value in each.flatten().values())


class World:
    """The objects the forms act on, each made on first use through the services, as the product makes it (the
    recipes of wuji/api/tests/world.py build_world). All belong to the signed-in customer, except the push's
    receiver."""

    def __init__(self, customer, catalogue):
        self.customer, self.catalogue, self.made = customer, catalogue, {}
        self.officer = staff("fuzz-officer@wuji.test", "compliance", "finance", "operations")

    def __getitem__(self, name: str):
        if name not in self.made:
            self.made[name] = getattr(self, f"_{name}")()
        return self.made[name]

    def __setitem__(self, name: str, obj) -> None:
        self.made[name] = obj

    def _buy(self, name: str):
        order, _password = billing.place_order(customer=self.customer, region=self.catalogue["region"],
                                               plan=self.catalogue["plan"], image=self.catalogue["image"],
                                               cycle="monthly", name=name, idempotency_key=str(uuid.uuid4()),
                                               channel="web", ip="127.0.0.1")
        testing.run_tasks()
        order.server.refresh_from_db()
        return order.server

    def _contact_kind(self):
        return "email"

    def _announcement(self):
        return status.save_announcement(Announcement(title="维护通知", level="info",
                                                     published_from=clock.now() - dt.timedelta(hours=1)),
                                        actor=self.officer)

    def _abuse_case(self):
        case = abuse.submit_complaint(category="phishing", target=network.address_of(self["server"]),
                                      description="该地址托管了仿冒银行的登录页面。", reporter_email="cert@example.org",
                                      ip="198.51.100.9", channel="web")
        abuse.triage(case, staff=self.officer)
        abuse.apply_action(case, kind=ActionKind.NOTIFY, staff=self.officer, reason="请删除钓鱼页面。")
        return case

    def _topup(self):
        return payments.create_topup(customer=self.customer, amount_fen=100_00, channel="sandbox", ip="127.0.0.1")

    def _api_key(self):
        return api_keys.create_key(owner=self.customer, name="fuzz", ip="127.0.0.1")[0]

    def _session(self):
        signed_in(self.customer, agent="another-browser")
        return UserSession.objects.filter(user=self.customer).latest("pk")

    def _ticket(self):
        return support.open_ticket(customer=self.customer, category="servers", subject="无法连接", body="SSH 超时。",
                                   channel="web")

    def _closed_ticket(self):
        return support.close(ticket=self._ticket(), customer=self.customer, channel="web")

    def _subscription(self):
        return Subscription.objects.get(server=self["server"])

    def _freeze(self):
        return freezes.freeze_funds(customer=self.customer, staff=self.officer, reason="abnormal_activity",
                                    outcome="long_term", amount_fen=1_00, note="资金进出异常，请说明来源。",
                                    evidence="规则 R12")

    def _withdrawal(self):
        paid_topup(self.customer, 50_00)
        return withdrawals.request_withdrawal(customer=self.customer, amount_fen=10_00,
                                              idempotency_key=str(uuid.uuid4()), factor="totp", channel="web",
                                              ip="127.0.0.1")

    def _bank_account(self):
        return withdrawals.add_bank_account(customer=self.customer, holder="测试用户", bank="工商银行",
                                            branch="赣州分行", number="6222020200112233445", channel="web", ip=None)

    def _fapiao(self):
        return finance.apply_for_fapiao(self.customer, amount_fen=10_00, fapiao_type="normal",
                                        idempotency_key=str(uuid.uuid4()), ip="127.0.0.1")

    def _receiver(self):
        return testing.make_customer("fuzz-receiver@example.com", balance_fen=100_00)

    def _push(self):
        return pushes.offer(server=self._buy("pushed"), receiver_login=self["receiver"].email, actor=self.customer,
                            channel="web", ip="127.0.0.1", idempotency_key=str(uuid.uuid4()))

    def _snapshot(self):
        snapshot = snapshots.create_snapshot(server=self["server"], name="before-upgrade",
                                             idempotency_key=str(uuid.uuid4()), actor=self.customer, channel="web",
                                             ip="127.0.0.1")
        testing.run_tasks()
        snapshot.refresh_from_db()
        return snapshot

    def _icp_filing(self):
        return compliance.submit_filing(owner=self.customer, domain="shop.example.cn", icp_number="京ICP备12345678号-1",
                                        server=self["server"], actor=self.customer, channel="web", ip="127.0.0.1")

    def _agreement_revision(self):
        """A revised agreement in force that the customer has not accepted yet (the clock moves past its date)."""
        effective_at = clock.now() + agreements.notice_period() + dt.timedelta(minutes=1)
        revision = agreements.publish(version="fuzz-revision", title="武极云用户服务协议",
                                      body="**1.1** 修订后的条款。", effective_at=effective_at)
        clock.advance(agreements.notice_period() + dt.timedelta(hours=1))
        return revision


# Objects a form needs beside those its URL names.
NEEDS = {"portal:agreement_accept": ("agreement_revision",), "portal:data_export": ("server",)}

LOOKUP = {"topup": "out_trade_no"}  # objects addressed by something other than their primary key
MISSING = "0"  # an id no object has: the explicit example `target="missing"` posts there


def _url(name: str, world: World, target: str) -> str:
    kwargs = {}
    for keyword, object_name in FUZZED[name][0].items():
        obj = world[object_name]
        value = obj if isinstance(obj, str) else getattr(obj, LOOKUP.get(object_name, "pk"))
        kwargs[keyword] = MISSING if target == "missing" else value
    return reverse(name, kwargs=kwargs)


def _pass_step_up(client, user, operation: str) -> None:
    """Verify with an authenticator code, a factor every step-up operation takes."""
    code = totp(enable_totp(user))
    response = client.post(reverse("portal:step_up"), {"operation": operation, "factor": "totp", "secret": code,
                                                       "verify": "1", "next": "/"})
    assert response.status_code == 302 and not response.url.startswith(reverse("portal:step_up")), response


def _field(field: str, paths: dict):
    if field in paths:
        return st.one_of(st.sampled_from(paths[field]), VALUES)
    if field == "idempotency_key":
        return st.one_of(st.uuids().map(str), VALUES)
    return VALUES


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_form_survives_generated_input(name, alice_client, client_factory, customer, catalogue, settings_sandbox):
    make_pool(catalogue["region"])  # the customer's server gets a public address (abuse cases and IP actions)
    world = World(customer, catalogue)
    world["server"] = buy_server(alice_client, catalogue)
    for needed in NEEDS.get(name, ()):
        world[needed]  # noqa: B018  (made now, not during the first example)
    client = alice_client
    if name in AS_RECEIVER:
        client = client_factory()
        client.force_login(world["receiver"])
    url_kwargs, fields, models = FUZZED[name]
    urls = {target: _url(name, world, target) for target in ("own", "missing")}
    if name in STEP_UP:
        _pass_step_up(client, world["receiver"] if name in AS_RECEIVER else customer, STEP_UP[name])
    counted = (*ALWAYS_COUNTED, *models)
    statuses, accounts_made = [], itertools.count()

    paths = _paths(name, fields)

    @settings(derandomize=True, max_examples=EXAMPLES.get(name, 15), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.fixed_dictionaries({field: _field(field, paths) for field in fields}), target=st.just("own"))
    @example(data={field: "a\x00b" for field in fields}, target="own")  # each kind at least once, whatever is drawn
    @example(data={field: "长" * 20000 for field in fields}, target="own")
    @example(data={field: ["1", "\x00"] for field in fields}, target="own")
    @example(data={field: "1" for field in fields}, target="missing")  # an object the customer does not have
    def post(data, target):
        if name in ANONYMOUS:
            client.logout()
        elif name in SIGN_IN_AGAIN:
            client.force_login(customer)
        elif name in FRESH_ACCOUNT:
            user = testing.make_customer(f"fuzz-{next(accounts_made)}@example.com", verified=False)
            client.force_login(user)
            if FRESH_ACCOUNT[name]:
                _pass_step_up(client, user, FRESH_ACCOUNT[name])
        before = _counts(counted)
        response = client.post(urls[target], data)
        assert response.status_code < 500, (name, data)
        refused = _refused(response, name)
        statuses.append((response.status_code, refused))
        if name in ALWAYS_ACCEPTED:
            assert not refused, (name, data, response.status_code, [str(m) for m in _new_messages(response)])
        if refused or (name in ALWAYS_ACCEPTED and not models):
            after = _counts(counted)
            assert after == before, (name, data, response.status_code, before, after,
                                     [str(m) for m in _new_messages(response)])

    for field, values in paths.items():
        for value in values:
            post = example(data={**{other: "1" for other in fields}, field: value}, target="own")(post)
    post()
    if name not in ALWAYS_ACCEPTED:
        assert any(refused for _status, refused in statuses), (name, statuses)  # else the write check was vacuous


@pytest.fixture
def client_factory():
    return Client


@pytest.fixture
def settings_sandbox(settings):
    settings.WUJI_SANDBOX_PAYMENTS = True
    yield
    clock.reset()  # the agreement revision moves the platform clock


# --- Payment-channel callbacks ----------------------------------------------------------------------------------
# Not customer forms, but the same promise: whatever arrives, no 5xx; and unless the channel's signature verifies,
# no money moves (no ledger transaction, the top-up stays pending). The channels' notices are logged by design,
# refused ones included: only rows with another outcome count as a write. Each run ends with a notice signed with
# the channel's key, which must credit the top-up: the refusals were the signature's, not a broken set-up's.

_header = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80)  # what HTTP can carry


def _maybe(value):
    """The right value as often as an arbitrary one: the notice gets past the early checks to the signature."""
    return st.one_of(st.just(value), VALUES)


def _callback_case(channel: str, topup, keys) -> tuple[dict, object]:
    """(strategy for the posted data, function posting it) for `channel`'s callback."""
    from wuji.payments.tests import conftest as channels

    if channel == "sandbox":
        fields = {"out_trade_no": _maybe(topup.out_trade_no), "trade_no": _maybe("SBX0001"),
                  "amount_fen": _maybe(str(topup.amount_fen)), "status": _maybe("SUCCESS"), "sign": VALUES}
        return st.fixed_dictionaries(fields), lambda client, data: client.post(reverse("portal:sandbox_notify"), data)
    if channel == "alipay":
        genuine = channels.alipay_notice(topup, keys["alipay"])
        fields = {name: _maybe(value) for name, value in genuine.items() if name != "sign"}
        fields["sign"] = st.one_of(VALUES, st.just(channels.rsa2_sign(keys["intruder"], "x")))
        return st.fixed_dictionaries(fields), lambda client, data: client.post(reverse("portal:alipay_notify"), data)
    body, headers = channels.wechat_callback(channels.wechat_transaction(topup), keys["platform"])
    forged, forged_headers = channels.wechat_callback(channels.wechat_transaction(topup), keys["intruder"])
    strategy = st.fixed_dictionaries({
        "body": st.one_of(st.just(body), VALUES.map(str)),
        "headers": st.fixed_dictionaries({name: st.one_of(st.just(value), _header) for name, value in headers.items()
                                          if name != "Wechatpay-Signature"} | {
            "Wechatpay-Signature": st.one_of(st.just(forged_headers["Wechatpay-Signature"]), _header)}),
    })

    def post(client, data):
        return client.post(reverse("portal:wechat_notify"), data["body"].encode("utf-8", "surrogatepass"),
                           content_type="application/json", **channels.as_django_headers(data["headers"]))

    return strategy, post


def _genuine(channel: str, topup, keys):
    from wuji.payments.tests import conftest as channels

    if channel == "sandbox":
        return lambda client: client.post(reverse("portal:sandbox_notify"), payments.sandbox_pay(topup))
    if channel == "alipay":
        notice = channels.alipay_notice(topup, keys["alipay"])
        return lambda client: client.post(reverse("portal:alipay_notify"), notice)
    body, headers = channels.wechat_callback(channels.wechat_transaction(topup), keys["platform"])
    return lambda client: client.post(reverse("portal:wechat_notify"), body, content_type="application/json",
                                      **channels.as_django_headers(headers))


def _configure(channel: str, settings, keys) -> None:
    """The channel's merchant settings, as wuji/payments/tests/conftest.py's fixtures set them (gateways on
    127.0.0.1:9, where nothing listens: a verification that called out would fail)."""
    from wuji.payments.tests import conftest as channels

    if channel == "alipay":
        settings.WUJI_ALIPAY_APP_ID, settings.WUJI_ALIPAY_SELLER_ID = channels.ALIPAY_APP_ID, channels.ALIPAY_SELLER_ID
        settings.WUJI_ALIPAY_PRIVATE_KEY = channels.private_pem(keys["ours"])
        settings.WUJI_ALIPAY_PUBLIC_KEY = channels.public_pem(keys["alipay"])
        settings.WUJI_ALIPAY_NOTIFY_URL = "https://cloud.example.com/payments/notify/alipay/"
        settings.WUJI_ALIPAY_RETURN_URL = "https://cloud.example.com/wallet/topups/"
        settings.WUJI_ALIPAY_GATEWAY = "http://127.0.0.1:9/gateway.do"
    elif channel == "wechat":
        settings.WUJI_WECHAT_MCHID, settings.WUJI_WECHAT_APPID = channels.WECHAT_MCHID, channels.WECHAT_APPID
        settings.WUJI_WECHAT_CERT_SERIAL_NO = channels.WECHAT_SERIAL
        settings.WUJI_WECHAT_APIV3_KEY = channels.APIV3_KEY
        settings.WUJI_WECHAT_PRIVATE_KEY = channels.private_pem(keys["ours"])
        settings.WUJI_WECHAT_PUBLIC_KEY = channels.public_pem(keys["platform"])
        settings.WUJI_WECHAT_PUBLIC_KEY_ID = channels.WECHAT_PUBLIC_KEY_ID
        settings.WUJI_WECHAT_CERT_DIR = ""
        settings.WUJI_WECHAT_NOTIFY_URL = "https://cloud.example.com/payments/notify/wechat/"
        settings.WUJI_WECHAT_API_BASE = "http://127.0.0.1:9"


@pytest.fixture
def django_settings(settings):
    return settings


@pytest.mark.parametrize("channel", sorted(CALLBACKS.values()))
def test_payment_callback_survives_generated_input(channel, client, customer, django_settings, settings_sandbox):
    from wuji.payments.choices import NoticeOutcome, TopUpStatus
    from wuji.payments.models import PaymentNotice
    from wuji.payments.tests import conftest as channels

    keys = {name: channels.new_key() for name in ("alipay", "platform", "intruder", "ours")}
    _configure(channel, django_settings, keys)
    topup = payments.create_topup(customer=customer, amount_fen=100_00, channel=channel, ip="127.0.0.1")
    strategy, post = _callback_case(channel, topup, keys)
    counted = ("ledger.Transaction",)

    def writes() -> tuple:
        return (_counts(counted), PaymentNotice.objects.exclude(outcome=NoticeOutcome.REFUSED).count(),
                type(topup).objects.get(pk=topup.pk).status)

    before = writes()

    @settings(derandomize=True, max_examples=15, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=strategy)
    def fuzz(data):
        response = post(client, data)
        assert response.status_code < 500, (channel, data)
        assert 400 <= response.status_code < 500, (channel, data, response.status_code)  # never signed: refused
        assert writes() == before, (channel, data)

    fuzz()
    assert before[2] == TopUpStatus.PENDING
    response = _genuine(channel, topup, keys)(client)
    assert response.status_code == 200, response.content
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and writes() != before
