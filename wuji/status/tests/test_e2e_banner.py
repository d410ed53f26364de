"""The announcement banner in a real browser against real `wuji serve` processes: staff publish it in the
console, a visitor sees it and dismisses it with the module script (no inline script, no page load)."""

import datetime as dt
import re
from pathlib import Path

import pytest

from wuji.portal.tests.test_e2e_browser import CHROMIUM, STAFF, page, platform_url, serve_this_checkout  # noqa: F401 — fixtures

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is missing"),
]


@pytest.fixture(scope="module", autouse=True)
def _serve_this_checkout(serve_this_checkout):  # noqa: F811
    """This module's platform runs this checkout (see test_e2e_browser.serve_this_checkout)."""


def test_staff_publish_an_announcement_and_a_visitor_dismisses_its_banner(page):  # noqa: F811
    from playwright.sync_api import expect

    page.set_default_timeout(60_000)  # two shared cores: the first request of a fresh server can be slow
    page.goto("/console/login/")
    page.locator("#id_username").fill(STAFF["login"])
    page.locator("#id_password").fill(STAFF["password"])
    page.locator("input[type=submit]").click()
    page.goto("/console/status/announcement/add/")
    an_hour_ago = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=1)
    page.locator("#id_title").fill("机房电力检修公告")
    page.locator("#id_level").select_option("important")
    page.locator("#id_body").fill("**请提前备份数据。**")
    page.locator("#id_published_from_0").fill(an_hour_ago.strftime("%Y-%m-%d"))
    page.locator("#id_published_from_1").fill(an_hour_ago.strftime("%H:%M:%S"))
    page.locator("input[name=_save]").click()
    expect(page).to_have_url(re.compile(r"/console/status/announcement/$"))

    visitor = page.context.browser.new_context(locale="zh-CN", base_url=page.url.split("/console/")[0])
    try:
        guest = visitor.new_page()
        violations = []
        guest.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        guest.goto("/status/")
        banner = guest.get_by_test_id("announcement-banner")
        expect(banner).to_contain_text("机房电力检修公告")
        url = guest.url
        banner.get_by_role("button", name="关闭").click()
        expect(guest.get_by_test_id("announcement-banner")).to_have_count(0)
        assert guest.url == url  # removed in place by status/banner.js
        guest.reload()
        expect(guest.get_by_test_id("announcement-banner")).to_have_count(0)  # remembered for the session
        guest.goto("/announcements/")
        guest.get_by_role("link", name="机房电力检修公告").click()
        expect(guest.locator("strong", has_text="请提前备份数据。")).to_be_visible()
        assert violations == []
    finally:
        visitor.close()
