"""The interactive API documentation in a real browser against real `wuji serve` processes: Swagger UI loads
from this server alone (vendored assets, no CDN), reads the live schema and lists the operations, under the
platform's Content Security Policy (the `page` fixture fails the test on any violation)."""

from pathlib import Path

import pytest

from wuji.portal.tests.test_e2e_browser import CHROMIUM, page, platform_url, serve_this_checkout  # noqa: F401 — fixtures

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is missing"),
]


@pytest.fixture(scope="module", autouse=True)
def _serve_this_checkout(serve_this_checkout):  # noqa: F811
    """This module's platform runs this checkout (see test_e2e_browser.serve_this_checkout)."""


def test_a_visitor_reads_the_api_operations_in_the_interactive_docs(page, platform_url):  # noqa: F811
    from playwright.sync_api import expect

    page.set_default_timeout(60_000)  # two shared cores: the first request of a fresh server can be slow
    slow = 60_000  # expect() has its own 5 s default: the schema is generated, then 100+ operations rendered
    foreign = []
    page.on("request", lambda request: foreign.append(request.url)
            if not request.url.startswith(platform_url) and not request.url.startswith("data:") else None)

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Wuji Cloud API", timeout=slow)
    expect(page.locator(".opblock").first).to_be_visible(timeout=slow)
    # Swagger UI renders long lists virtually (only what is near the viewport): scroll down like a reader,
    # noting the resource headings passed, until the server list operation is on the page.
    servers_list = page.locator("#operations-servers-servers_list")
    headings = set()
    for _step in range(300):
        headings.update(text.split("\n")[0].strip() for text in page.locator(".opblock-tag").all_inner_texts())
        if servers_list.count():
            break
        page.mouse.wheel(0, 1200)
        page.wait_for_timeout(50)
    servers_list.scroll_into_view_if_needed()
    expect(servers_list).to_contain_text("/api/v1/servers/", timeout=slow)
    assert {"abuse", "account", "catalog", "finance", "orders", "servers"} <= headings, headings
    servers_list.locator(".opblock-summary").first.click()  # expands: the documented responses are shown
    expect(servers_list.locator(".responses-table")).to_contain_text("429", timeout=slow)
    assert foreign == []
