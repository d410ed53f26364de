"""In a real browser (Debian's Chromium via Playwright, live server on loopback): a reporter files a complaint
with an attachment against the IP a server holds, gets the case number, and staff see the case resolved to the
right owner in the console."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from wuji.abuse.models import Case
from wuji.compute.tests.console_support import running_server
from wuji.network import services as network
from wuji.network.tests.test_network import make_pool
from wuji.payments.tests.helpers import staff
from wuji.portal.tests.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),  # the live server reads from its own thread
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]


def test_a_complaint_from_the_browser_reaches_staff_resolved_to_the_owner(catalogue, live_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    make_pool(catalogue["region"])
    server = running_server(catalogue, "owner-e2e@example.com")  # no money moves: see running_server
    customer = server.owner
    assert network.address_of(server) == "203.0.113.2"
    officer = staff("abuse-e2e@wuji.test", "compliance")
    officer.user_permissions.add(*Permission.objects.filter(content_type__app_label="abuse"))
    staff_client = Client()
    staff_client.force_login(officer)
    cookie = {"name": "sessionid", "value": staff_client.cookies["sessionid"].value, "url": live_server.url}
    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(b"%PDF-1.4 phishing page screenshot")
    # No ORM call from here until the browser is gone: Playwright's sync API runs an event loop here.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            reporter = browser.new_context(locale="zh-CN", base_url=live_server.url).new_page()
            reporter.goto("/abuse/")
            reporter.get_by_label("投诉类别").select_option("phishing")
            reporter.get_by_label("投诉对象").fill("203.0.113.2")
            reporter.get_by_label("投诉说明").fill("该地址托管仿冒网银登录页。")
            reporter.get_by_label("联系邮箱").fill("cert@example.org")
            reporter.locator("input[name=files]").set_input_files(str(evidence))
            reporter.get_by_role("button", name="提交投诉").click()
            expect(reporter).to_have_url(re.compile(r"/abuse/received/$"))
            number = reporter.get_by_test_id("case-number").inner_text()
            assert re.fullmatch(r"AB\d{13}", number)
            assert customer.email not in reporter.content()

            console = browser.new_context(locale="zh-CN", base_url=live_server.url)
            console.add_cookies([cookie])
            staff_page = console.new_page()
            staff_page.goto("/console/abuse/case/?status__exact=new")
            row = staff_page.locator("#result_list tr", has_text=number)
            expect(row).to_contain_text(customer.email)
            expect(row).to_contain_text("钓鱼欺诈")
        finally:
            browser.close()
    case = Case.objects.get(number=number)
    assert (case.owner, case.server) == (customer, server)
    assert case.evidence.get().name == "evidence.pdf"
