"""Query-count baselines: a list costs the same number of queries for one row as for many (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuji.core import testing

from .conftest import buy

# Authentication with the agreement check (1) + page rows (1): a cursor page never counts (decision 0043), and
# filters and ordering narrow the one query.
MAX_QUERIES = 2

LISTS = [
    "/api/v1/servers/",
    "/api/v1/orders/",
    "/api/v1/transactions/",
    "/api/v1/instructions/",
    "/api/v1/topups/",
    "/api/v1/instructions/export.csv",
    "/api/v1/subscriptions/",
    "/api/v1/notifications/inbox/",
    # filtered and ordered: still one query for the page
    "/api/v1/servers/?region=cn-ganzhou&plan=s1&name_contains=web&ordering=name&page_size=100",
    "/api/v1/orders/?cycle=monthly&created_after=2000-01-01T00:00:00Z&ordering=-amount_fen",
    "/api/v1/instructions/?channel=api&ordering=created_at",
    "/api/v1/notifications/inbox/?unread=true&ordering=created_at",
]


def buy_and_use(api, customer, index: int) -> None:
    server_id = buy(api, key=f"order-{index}", name=f"web-{index}").json()["server"]
    testing.run_tasks()
    api.post(f"/api/v1/servers/{server_id}/reboot/", {}, format="json")
    api.post("/api/v1/topups/", {"amount_fen": 100 + index}, format="json")
    testing.run_tasks()


def queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_list_queries_do_not_grow_with_rows(api, customer, sandbox, django_assert_max_num_queries, url):
    testing.fund(customer, 1000_00)
    buy_and_use(api, customer, 0)
    api.get(url)  # the key's last-used time is written on first use (throttled): keep it out of the count
    baseline = queries(api, url)
    assert baseline <= MAX_QUERIES

    for index in range(1, 6):
        buy_and_use(api, customer, index)

    with django_assert_max_num_queries(baseline):
        response = api.get(url)
    rows = response.content.count(b"\n") if url.endswith(".csv") else len(response.json()["results"])
    assert rows >= 6
