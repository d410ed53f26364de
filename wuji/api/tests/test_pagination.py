"""Cursor pagination, filtering and ordering of /api/v1/ lists (decision 0043)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from wuji.accounts import services as accounts
from wuji.accounts.choices import LoginEvent, LoginResult
from wuji.accounts.security_models import LoginRecord
from wuji.api.pagination import CursorPage, Position, WholeList
from wuji.core import clock

from .conftest import buy

RECORDS = "/api/v1/account/login-records/"


def records(user, count: int, *, event: str = LoginEvent.LOGIN, at: dt.datetime | None = None) -> list[int]:
    """`count` login records of `user`; with `at`, all at that same instant (ties the cursor must break)."""
    made = [accounts.record_login_event(request=None, event=event, user=user,
                                        result=LoginResult.SUCCESS if event == LoginEvent.LOGIN
                                        else LoginResult.WRONG_CREDENTIALS) for _ in range(count)]
    if at is not None:
        LoginRecord.objects.filter(pk__in=[r.pk for r in made]).update(created_at=at)
    return [r.pk for r in made]


def walk(api, url: str, direction: str = "next") -> tuple[list[int], list[dict]]:
    """Follow the `direction` links from `url`; returns the ids in the order read, and the pages."""
    ids, pages = [], []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.json()
        page = response.json()
        assert set(page) == {"next", "previous", "results"}  # no count: a cursor page never counts the table
        pages.append(page)
        rows = [row["id"] for row in page["results"]]
        ids.extend(rows if direction == "next" else reversed(rows))
        url = page[direction]
    return ids, pages


def test_pages_of_two_return_every_row_once_in_order(api, customer, other_customer):
    records(customer, 2)
    records(customer, 3, at=clock.now() - dt.timedelta(hours=1))  # three rows with equal created_at
    records(other_customer, 2)
    expected = list(LoginRecord.objects.filter(user=customer).order_by("-created_at", "-id")
                    .values_list("pk", flat=True))

    ids, pages = walk(api, f"{RECORDS}?page_size=2")

    assert ids == expected and len(pages) == 3
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    back, _pages = walk(api, pages[-1]["previous"], direction="previous")
    assert back == list(reversed(expected[:4]))


def test_ordering_by_an_allowed_field_pages_in_that_order(api, customer):
    records(customer, 2, at=clock.now() - dt.timedelta(days=2))
    records(customer, 3, at=clock.now() - dt.timedelta(days=1))
    expected = list(LoginRecord.objects.filter(user=customer).order_by("created_at", "id")
                    .values_list("pk", flat=True))

    ids, _pages = walk(api, f"{RECORDS}?ordering=created_at&page_size=2")

    assert ids == expected


def test_a_row_added_while_paging_neither_shifts_nor_repeats_rows(api, customer):
    moment = clock.now() - dt.timedelta(minutes=5)
    first = records(customer, 4, at=moment)  # equal created_at: the id decides, and the cursor holds both
    page = api.get(f"{RECORDS}?page_size=2").json()
    records(customer, 1, at=moment)  # sorts first: it belongs before the page read, not in the pages still to read
    rest, _pages = walk(api, page["next"])
    assert [r["id"] for r in page["results"]] + rest == sorted(first, reverse=True)


def test_a_filter_narrows_the_rows(api, customer):
    records(customer, 2)
    failed = records(customer, 2, event=LoginEvent.FAILED)
    assert [r["id"] for r in api.get(f"{RECORDS}?event=failed").json()["results"]] == sorted(failed, reverse=True)
    later = (clock.now() + dt.timedelta(minutes=1)).isoformat()
    assert api.get(RECORDS, {"created_after": later}).json()["results"] == []
    assert len(api.get(RECORDS, {"created_before": later}).json()["results"]) == 4


@pytest.mark.parametrize(("query", "field"), [
    ({"event": "teleport"}, "event"),
    ({"created_after": "yesterday"}, "created_after"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "101"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
    ({"cursor": "not-a-cursor!"}, "cursor"),
    ({"ordering": "identifier"}, "ordering"),
    ({"ordering": "-created_at,user__password"}, "ordering"),
])
def test_a_bad_parameter_is_refused_naming_it(api, customer, query, field):
    records(customer, 1)
    response = api.get(RECORDS, query)
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field and response.json()["message"]


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/notifications/inbox/?unread=maybe", "unread"),
    ("/api/v1/orders/?server=twelve", "server"),
    ("/api/v1/catalog/plans/?vcpus__gte=many", "vcpus__gte"),
    ("/api/v1/finance/fapiao/?applied_before=2026-13-01", "applied_before"),
])
def test_bad_values_on_other_lists_name_the_parameter(api, customer, url, field):
    response = api.get(url)
    assert response.status_code == 400 and response.json()["field"] == field


def test_a_forged_cursor_position_is_refused_not_a_server_error(api, customer):
    records(customer, 3)
    for forged in (Position(("not-a-time", "1")).encode(), Position(("1",)).encode()):
        response = api.get(RECORDS, {"cursor": forged})
        assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


def test_filters_never_reveal_another_customers_rows(api, other_api, customer, other_customer):
    theirs = buy(other_api, key="theirs").json()["server"]
    mine = buy(api, key="mine", name="mine").json()["server"]

    for url in (f"/api/v1/orders/?server={theirs}", f"/api/v1/instructions/?target_type=server&target_id={theirs}",
                f"/api/v1/tickets/?server={theirs}", f"/api/v1/icp-filings/?server={theirs}",
                "/api/v1/servers/?name_contains=web"):
        response = api.get(url)
        assert response.status_code == 200 and response.json()["results"] == [], url
    # A missing id answers exactly as someone else's does: empty, not "not a valid choice".
    assert api.get("/api/v1/orders/?server=999999").json()["results"] == []
    assert [o["server"] for o in api.get(f"/api/v1/orders/?server={mine}").json()["results"]] == [mine]
    placed = api.get("/api/v1/instructions/?action=order.place").json()["results"]
    assert len(placed) == 1 and placed[0]["channel"] == "api"  # theirs is not among them


def test_a_page_costs_no_count_query(api, customer):
    records(customer, 3)
    api.get(RECORDS)
    with CaptureQueriesContext(connection) as captured:
        assert api.get(f"{RECORDS}?page_size=2&ordering=-created_at").status_code == 200
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def test_whole_lists_keep_the_page_envelope(api, customer):
    body = api.get("/api/v1/catalog/prices/").json()
    assert body["next"] is None and body["previous"] is None and body["results"]


# --- every list of /api/v1/ follows the conventions -----------------------------------------------------


def list_views():
    def walk_patterns(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk_patterns(get_resolver().url_patterns):
        actions = getattr(callback, "actions", None) or {}
        if route.startswith("api/v1/") and "list" in actions.values():
            yield pytest.param(callback.cls, id=route)


@pytest.mark.parametrize("view", list(list_views()))
def test_every_list_is_paged_and_orders_only_by_cursorable_fields(view):
    """The cursor stores the first ordering field's value: it must be a non-null column of the model itself,
    and the default ordering must end in a unique column so that pages never overlap."""
    pagination = view.pagination_class
    assert pagination in (CursorPage, WholeList), view
    if pagination is WholeList:
        assert not getattr(view, "ordering_fields", None) and not view.filter_backends
        return
    model = view.queryset.model
    for name in {*view.ordering_fields, *(term.lstrip("-") for term in view.ordering)}:
        field = model._meta.get_field(name)
        assert field.concrete and not field.null and not field.is_relation, (view, name)
    assert view.ordering and model._meta.get_field(view.ordering[-1].lstrip("-")).unique, view
    assert getattr(view, "filterset_fields", None) or getattr(view, "filterset_class", None) \
        or view.__name__ == "BankAccountViewSet", view  # a customer has a handful of bank accounts


def test_any_utc_offset_is_answered_and_ids_outside_the_column_are_refused(api):
    """Found by schemathesis on PostgreSQL: an offset beyond ±15:59 (valid in Python, not in PostgreSQL) and an
    id beyond bigint were 500s; the instant is turned into UTC and an id must be a whole number in range."""
    rows = api.get("/api/v1/orders/?created_after=1900-02-10T09:08:30-20:45&created_before=2999-01-01T00:00:00%2B23:00")
    assert rows.status_code == 200
    for value in ("-5", "1.5", "-2.6823772882631456e+16", "99999999999999999999"):
        refused = api.get(f"/api/v1/orders/?server={value}")
        assert (refused.status_code, refused.json()["field"]) == (400, "server"), value


def test_an_api_path_matching_no_route_is_a_json_404(api, client, db):
    """Found by schemathesis: /api/v1/announcements/-1593/ matched no route and got Django's HTML page."""
    for url in ("/api/v1/announcements/-1593/", "/api/v1/no-such-thing/"):
        response = api.get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found", url
        assert response.json()["request_id"] == response["X-Request-Id"]
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")
