"""List pages cost a fixed number of queries, however many rows they show (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuji.core import testing

from .conftest import act, buy_server


def queries_for(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", ["portal:dashboard", "portal:servers", "portal:wallet", "portal:instructions",
                                  "portal:instructions_csv", "portal:api_keys"])
def test_list_pages_do_not_grow_with_rows(alice_client, customer, catalogue, name, django_assert_max_num_queries):
    server = buy_server(alice_client, catalogue)
    url = reverse(name)
    with CaptureQueriesContext(connection) as one:
        alice_client.get(url)
    baseline = len(one)  # read now: each request resets the connection's query log
    for _ in range(3):
        testing.fund(customer, 30_00)
        buy_server(alice_client, catalogue)
        act(alice_client, server, "reboot")
        testing.run_tasks()
    queries_for(alice_client, url, django_assert_max_num_queries, baseline)
