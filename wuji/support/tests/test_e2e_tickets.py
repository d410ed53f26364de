"""A ticket in real browsers (Debian's Chromium via Playwright, live server on loopback): the customer opens a
ticket with an attachment, support staff replies and resolves it in the console, the customer sees the reply
and rates the service."""

import re
from pathlib import Path

import pytest
from django.test import Client

from wuji.core import testing
from wuji.portal.tests.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS
from wuji.support.choices import TicketStatus
from wuji.support.models import Ticket

from .conftest import PNG, staff

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),  # the live server reads from its own thread
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]


def session_cookie(user, url: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}


def test_customer_opens_staff_replies_in_the_console_customer_rates(catalogue, live_server):
    from playwright.sync_api import expect, sync_playwright

    customer = testing.make_customer("e2e-ticket@example.com")
    agent = staff("agent@wuji.test", "support")
    cookies = {"customer": session_cookie(customer, live_server.url), "agent": session_cookie(agent, live_server.url)}
    # No ORM call from here until the browser is gone: Playwright's sync API runs an event loop here.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for who, cookie in cookies.items():
                context = browser.new_context(locale="zh-CN", base_url=live_server.url)
                context.set_default_timeout(30_000)
                context.add_cookies([cookie])
                pages[who] = context.new_page()
            page = pages["customer"]
            page.goto("/support/tickets/")
            page.get_by_test_id("new-ticket").click()
            page.locator("#id_category").select_option("account")
            page.locator("#id_priority").select_option("high")
            page.locator("#id_subject").fill("实名认证一直在审核中")
            page.locator("#id_body").fill("三天前提交的实名认证还没有结果。")
            page.locator("#id_files").set_input_files({"name": "receipt.png", "mimeType": "image/png", "buffer": PNG})
            page.get_by_test_id("ticket-form").get_by_role("button", name="提交工单").click()
            expect(page).to_have_url(re.compile(r"/support/tickets/\d+/$"))
            ticket_id = int(re.search(r"/support/tickets/(\d+)/$", page.url).group(1))
            expect(page.get_by_test_id("ticket-attachment")).to_have_text("receipt.png")
            expect(page.get_by_test_id("ticket-status")).to_have_text("待处理")

            console = pages["agent"]
            console.goto("/console/support/ticket/")
            console.get_by_role("link", name="实名认证一直在审核中").click()
            expect(console.get_by_test_id("staff-ticket-message")).to_contain_text("三天前提交的实名认证还没有结果。")
            console.locator("#id_body").fill("已加急处理，您的实名认证已通过。")
            console.locator("#id_status").select_option("resolved")
            console.get_by_test_id("staff-reply-form").locator("input[type=submit]").click()
            expect(console.get_by_test_id("staff-ticket-status")).to_have_text("已解决")

            page.goto(f"/support/tickets/{ticket_id}/")
            expect(page.get_by_test_id("ticket-message").nth(1)).to_contain_text("已加急处理，您的实名认证已通过。")
            expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")
            page.get_by_test_id("rating-form").locator("input[value='5']").check()
            page.locator("#id_comment").fill("处理很快")
            page.get_by_test_id("rating-form").get_by_role("button", name="提交评价").click()
            expect(page.get_by_test_id("ticket-rating")).to_contain_text("5 / 5")
        finally:
            browser.close()
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.status == TicketStatus.RESOLVED and ticket.rating == 5 and ticket.assignee == agent
    assert ticket.attachments.get().name == "receipt.png"
