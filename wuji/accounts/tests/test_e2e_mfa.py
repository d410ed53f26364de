"""TOTP enrolment and sign-in with it, in a real browser against real `wuji serve` processes.

Register → enable the authenticator app (secret read from the page, codes computed here with RFC 6238)
→ log out → log in with password, then the 6-digit code → the login records show the MFA events.
"""

import re
import time

import pytest

from wuji.portal.tests.test_e2e_browser import CHROMIUM, page, platform_url  # noqa: F401 — fixtures

from .helpers import totp

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian's Chromium is missing"),
]


@pytest.fixture(scope="module", autouse=True)
def _mfa_with_unverified_email():
    """The browser cannot open the confirmation mail, so let `wuji serve` enrol MFA before it is confirmed."""
    import os

    os.environ["WUJI_MFA_ALLOW_UNVERIFIED_EMAIL"] = "1"
    yield
    os.environ.pop("WUJI_MFA_ALLOW_UNVERIFIED_EMAIL", None)


def fresh_code(secret: str, used: set[str]) -> str:
    """A code not used before: allauth accepts each TOTP code once, so wait for the next 30-second step."""
    for _ in range(70):
        code = totp(secret)
        if code not in used:
            used.add(code)
            return code
        time.sleep(1)
    raise AssertionError("no fresh TOTP code")


def test_totp_enrolment_and_login_in_the_browser(page):  # noqa: F811
    from playwright.sync_api import expect

    email, password = "mfa-e2e@example.com", "Mfa-Browser-2024!"
    page.goto("/register/")
    page.get_by_label("电子邮箱").fill(email)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.locator("#id_accept_agreement").check()
    page.get_by_role("button", name="同意协议并注册").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # Enrol from the security page.
    page.goto("/security/")
    page.get_by_role("link", name="管理两步验证").click()
    page.goto("/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.locator("input[name=password]").fill(password)
        page.locator("form button[type=submit]").last.click()
        page.goto("/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    used: set[str] = set()
    page.locator("input[name=code]").fill(fresh_code(secret, used))
    page.locator("main form button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/totp/activate/"))
    page.goto("/security/")
    expect(page.get_by_test_id("mfa")).to_contain_text("已启用")

    # Log out, log in: the password alone is not enough.
    page.locator(".topbar form button[type=submit]", has_text="退出").click()
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill("000000" if totp(secret) != "000000" else "111111")
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill(fresh_code(secret, used))
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    page.goto("/security/login-records/")
    records = page.get_by_test_id("login-records")
    expect(records).to_contain_text("启用两步验证")
    expect(records).to_contain_text("两步验证通过")
    expect(records.locator("tbody tr").filter(has_text="验证码错误")).to_have_count(1)
