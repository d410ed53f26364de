"""Query-count baselines for every list of /api/v1/ and every customer page of the portal (issue 8, decision 0048).

The routes come from the URL configuration (the walk of test_owner_matrix), so a new list cannot be missed:
- API: every GET route whose view lists (a viewset's `list` action, or a ListModelMixin view), with or without
  path parameters, plus the list views that are plain APIViews (API_LIST_VIEWS).
- Portal: every route of the `portal`, `abuse` and `status` namespaces without a path parameter. Each is either
  a page counted here or named in PORTAL_NOT_COUNTED with the reason (POST-only, a redirect, a callback).

Each counted route is read with the owner holding one set of everything (world.build_world) and again after a
second set: the count must not grow (no query per row), the response must have grown (the rows are there) and
the count must stay within its recorded baseline. A change that adds a query must raise the baseline here, in
the same commit, on purpose. The two server detail views have a fixed ceiling the same way.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from rest_framework.mixins import ListModelMixin

from wuji.abuse import services as abuse
from wuji.accounts import restrictions
from wuji.accounts.choices import RestrictedFunction
from wuji.billing import freezes
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.catalog.models import HourlyPrice, Plan, Price, Region
from wuji.compute import snapshots
from wuji.core import clock, demo, testing
from wuji.payments.tests.helpers import staff
from wuji.status import services as status
from wuji.status.choices import AnnouncementLevel
from wuji.status.models import Announcement

from .conftest import client_for
from .test_owner_matrix import LOOKUP, OBJECTS, _has_parameter, _walk
from .world import PDF, build_world, signed_in, third_party, world_settings

# route name -> the most queries one read may make (measured with one and with two sets of rows).
API_LISTS: dict[str, int] = {
    "api:abuse-case-files": 3,
    "api:abuse-case-list": 2,
    "api:account-restrictions": 2,
    "api:agreement-version-list": 2,
    "api:announcement-list": 2,
    "api:api-key-list": 2,
    "api:bank-account-list": 2,
    "api:bank-transfer-list": 2,
    "api:contract-list": 2,
    "api:fapiao-list": 2,
    "api:freeze-list": 3,
    "api:hourly-price-list": 2,
    "api:icp-filing-list": 2,
    "api:image-list": 2,
    "api:instruction-export": 2,
    "api:instruction-list": 2,
    "api:login-record-list": 2,
    "api:notice-list": 2,
    "api:order-list": 2,
    "api:payg-server-list": 2,
    "api:plan-list": 2,
    "api:price-list": 4,
    "api:public-ip-list": 2,
    "api:push-list": 2,
    "api:region-list": 2,
    "api:server-list": 2,
    "api:server-migrations": 3,
    "api:server-snapshot-list": 3,
    "api:session-list": 3,
    "api:subscription-list": 2,
    "api:ticket-list": 2,
    "api:topup-list": 2,
    "api:transaction-list": 2,
    "api:withdrawal-list": 3,
}

# Lists that are plain APIViews (not a ListModelMixin): named by hand.
API_LIST_VIEWS = {"api:instruction-export", "api:abuse-case-files", "api:server-migrations"}

# Lists the test cannot give more rows, and why: their count is still checked against the baseline.
API_NOT_GROWN: dict[str, str] = {
    "api:agreement-version-list": "a new version would ask the customer to accept it again, and every page redirects",
    "api:server-migrations": "migrations are staff operations on a node; the world makes none",
}

# portal page route name -> the most queries one read may make.
PORTAL_PAGES: dict[str, int] = {
    "abuse:cases": 13,
    "abuse:complain": 11,
    "portal:agreement": 13,
    "portal:api_keys": 13,
    "portal:bank_transfer": 14,
    "portal:buy": 23,
    "portal:buy_confirm": 20,
    "portal:cancel_account": 18,
    "portal:dashboard": 15,
    "portal:finance": 23,
    "portal:freezes": 15,
    "portal:home": 14,
    "portal:icp_filings": 15,
    "portal:identity": 15,
    "portal:inbox": 14,
    "portal:instructions": 14,
    "portal:instructions_csv": 9,
    "portal:login_records": 14,
    "portal:notification_settings": 14,
    "portal:payg_buy": 20,
    "portal:profile": 15,
    "portal:pushes": 14,
    "portal:recover": 11,
    "portal:report_unauthorised": 12,
    "portal:security": 20,
    "portal:security_question": 13,
    "portal:servers": 13,
    "portal:sessions": 14,
    "portal:ticket_new": 12,
    "portal:tickets": 13,
    "portal:topups": 14,
    "portal:wallet": 16,
    "portal:withdraw": 18,
    "status:announcements": 12,
    "status:status": 14,
    "status:status_json": 11,
}

# Portal routes without a path parameter that are not pages to count, and why.
PORTAL_NOT_COUNTED: dict[str, str] = {
    "abuse:complaint_received": "a redirect unless a complaint was just submitted",
    "portal:agreement_accept": "a form target: redirects a customer who has accepted",
    "portal:alipay_notify": "a payment channel's callback (POST only)",
    "portal:sandbox_notify": "a payment channel's callback (POST only)",
    "portal:wechat_notify": "a payment channel's callback (POST only)",
    "portal:bank_account_add": "POST only",
    "portal:contract_apply": "POST only",
    "portal:data_export": "POST only",
    "portal:inbox_mark_read": "POST only",
    "portal:session_end_all": "POST only",
    "portal:login": "a redirect to the sign-in page",
    "portal:register": "a redirect for a signed-in customer",
    "portal:logout": "allauth's confirmation page",
    "portal:step_up": "answers only during a step-up",
}

# Pages whose content does not grow with the owner's rows (forms, settings, public pages), and why.
PORTAL_NOT_GROWN: dict[str, str] = {
    "abuse:complain": "a public form",
    "portal:agreement": "the agreement text",
    "portal:identity": "one verification per account",
    "portal:instructions": "paged by 20 and the first set already fills the page: the baseline bounds a page",
    "portal:notification_settings": "settings form",
    "portal:profile": "settings form",
    "portal:recover": "account recovery form",
    "portal:report_unauthorised": "a form",
    "portal:security_question": "settings form",
    "status:status": "the status of the regions with a node and of open incidents: the world adds neither",
    "status:status_json": "the status of the regions with a node and of open incidents: the world adds neither",
}

# Fixed ceilings of the server detail views (a server with a snapshot, an address, a subscription).
API_SERVER_DETAIL = 2
PORTAL_SERVER_DETAIL = 23

PORTAL_NAMESPACES = ("portal:", "abuse:", "status:")


def _is_list(pattern) -> bool:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return actions.get("get") == "list"
    view = getattr(callback, "view_class", None)
    return isinstance(view, type) and issubclass(view, ListModelMixin)


def api_lists() -> set[str]:
    """Names of the /api/v1/ routes that list rows."""
    return {name for route, name, pattern in _walk(get_resolver().url_patterns)
            if route.lstrip("^").startswith("api/v1/") and (_is_list(pattern) or name in API_LIST_VIEWS)}


def portal_routes() -> set[str]:
    """Names of the portal's routes without a path parameter."""
    return {name for _route, name, pattern in _walk(get_resolver().url_patterns)
            if name.startswith(PORTAL_NAMESPACES) and not _has_parameter(pattern)}


def test_every_list_route_and_portal_page_has_a_baseline():
    lists, pages = api_lists(), portal_routes()
    assert len(lists) > 30 and len(pages) > 30  # the walk finds the routes
    missing = sorted(lists - set(API_LISTS))
    assert not missing, f"add these API lists to API_LISTS with their baseline: {missing}"
    missing = sorted(pages - set(PORTAL_PAGES) - set(PORTAL_NOT_COUNTED))
    assert not missing, f"add these portal routes to PORTAL_PAGES (or PORTAL_NOT_COUNTED with why): {missing}"
    assert not set(API_LISTS) - lists, "API_LISTS names routes that no longer list"
    assert not (set(PORTAL_PAGES) | set(PORTAL_NOT_COUNTED)) - pages, "the portal tables name routes that are gone"


def _url(name: str, world) -> str:
    """The route's URL with the first set's objects as its parameters, every row on one page."""
    kwargs = {keyword: getattr(world.objects[obj], LOOKUP.get(obj, "pk"))
              for keyword, obj in OBJECTS.get(name, {}).items()}
    return reverse(name, kwargs=kwargs) + "?page_size=100"


def _read(client, url: str) -> tuple[int, int]:
    """(queries, size of the answer) of a GET, after a first GET that takes once-only writes out of the count."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(captured.captured_queries), len(response.content)


def _grow_under_the_first_set(world, tag: str) -> None:
    """Rows the second set cannot add by itself: those listed under one of the first set's objects."""
    server, case = world.objects["server"], world.objects["abuse_case"]
    snapshots.create_snapshot(server=server, name=f"second{tag}", idempotency_key=f"snap{tag}", actor=world.owner,
                              channel="web", ip="127.0.0.1")
    testing.run_tasks()
    abuse.reply(case, owner=world.owner, text="再补充一份。", files=[abuse.Upload(f"more{tag}.pdf", PDF)],
                channel="web")


def _more_provider_content(tag: str) -> None:
    """The provider's rows that customers' lists show: an announcement (already ended, so no page gets a
    banner), and in the second round a region, a plan with its prices everywhere, and an image."""
    ops = staff(f"ops{tag}@wuji.test", "operations")
    status.save_announcement(Announcement(title=f"网络维护已完成{tag}", level=AnnouncementLevel.INFO,
                                          published_from=clock.now() - dt.timedelta(hours=2),
                                          published_until=clock.now() - dt.timedelta(hours=1)), actor=ops)
    if not tag:
        return
    Region.objects.create(code=f"sg{tag}", name_zh="新加坡", name_en="Singapore", is_mainland=False, sort_order=9)
    Plan.objects.create(code=f"s8{tag}", name_zh="高配型 8核16G", name_en="Large 8 vCPU 16 GiB", vcpus=8,
                        memory_mib=16384, disk_gib=160, bandwidth_mbps=20)
    for plan in Plan.objects.all():
        for region in Region.objects.all():
            for cycle in BillingCycle.values():
                Price.objects.get_or_create(plan=plan, region=region, cycle=cycle, effective_from=demo.EPOCH,
                                            defaults={"amount_fen": 9900})
            HourlyPrice.objects.get_or_create(plan=plan, region=region, effective_from=demo.EPOCH, defaults={
                "running_per_hour": Decimal("0.5"), "stopped_per_hour": Decimal("0.01")})
    catalog.register_image(code=f"alma-9{tag}", volume="alma-9.qcow2", name_zh="AlmaLinux 9", name_en="AlmaLinux 9")


def _restrict(customer, function: str) -> None:
    restrictions.restrict(user=customer, functions=[function], reason="核实中，暂停该功能。", actor=None)


def _lift_the_freeze(world) -> None:
    """The first set's open freeze would refuse the second set's withdrawal; lifted, it stays in the lists."""
    officer = staff("baseline-officer@wuji.test", "compliance", "finance")
    freezes.lift_freeze(freeze=world.objects["freeze"], staff=officer, reason="资金来源已核实。")


@pytest.fixture
def worlds(customer, catalogue, settings, tmp_path):
    world_settings(settings, tmp_path)
    return customer, catalogue


def test_no_list_and_no_portal_page_makes_a_query_per_row(worlds):
    customer, catalogue = worlds
    world = build_world(customer, third_party(), catalogue)
    _more_provider_content("")
    _restrict(customer, RestrictedFunction.RENEWAL)  # one the world never uses
    api, browser = client_for(customer), signed_in(customer, agent="baseline-browser")
    api_urls = {name: _url(name, world) for name in API_LISTS}
    page_urls = {name: reverse(name) for name in PORTAL_PAGES}
    first = {name: _read(api, url) for name, url in api_urls.items()}
    first.update({name: _read(browser, url) for name, url in page_urls.items()})

    _lift_the_freeze(world)
    build_world(customer, world.receiver, catalogue, tag="-2")
    _grow_under_the_first_set(world, "-2")
    _more_provider_content("-2")
    _restrict(customer, RestrictedFunction.WITHDRAWAL)  # after the second set's withdrawal
    second = {name: _read(api, url) for name, url in api_urls.items()}
    second.update({name: _read(browser, url) for name, url in page_urls.items()})

    baselines = {**API_LISTS, **PORTAL_PAGES}
    report = "\n".join(f"{name}: {first[name][0]} -> {second[name][0]} (baseline {baselines[name]})"
                       for name in sorted(first))
    print(report)
    failures = []
    for name in sorted(first):
        (before, size_before), (after, size_after) = first[name], second[name]
        if after > before:
            failures.append(f"{name}: {before} queries with one set of rows, {after} with two (a query per row)")
        if max(before, after) > baselines[name]:
            failures.append(f"{name}: {max(before, after)} queries, baseline {baselines[name]}")
        exempt = name in API_NOT_GROWN or name in PORTAL_NOT_GROWN
        if size_after <= size_before and not exempt:
            failures.append(f"{name}: the answer did not grow with the rows (the comparison would prove nothing)")
    assert not failures, "\n".join(failures) + "\n" + report


def test_server_detail_views_stay_within_their_ceiling(worlds):
    """The detail shows the server's snapshots, address and subscription: a second snapshot adds no query."""
    customer, catalogue = worlds
    world = build_world(customer, third_party(), catalogue)
    server = world.objects["server"]
    api, browser = client_for(customer), signed_in(customer, agent="baseline-browser")
    urls = [(api, reverse("api:server-detail", kwargs={"pk": server.pk}), API_SERVER_DETAIL),
            (browser, reverse("portal:server", kwargs={"pk": server.pk}), PORTAL_SERVER_DETAIL)]
    before = [_read(client, url) for client, url, _ceiling in urls]
    _grow_under_the_first_set(world, "-2")
    after = [_read(client, url) for client, url, _ceiling in urls]
    print("server detail (api, portal):", before, after)
    for (_client, url, ceiling), (queries, _), (queries_after, _) in zip(urls, before, after, strict=True):
        assert queries_after <= queries <= ceiling, (url, queries, queries_after, ceiling)
