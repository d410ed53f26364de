"""Registration with a verified mainland mobile, in a real browser against real `wuji serve` processes.

Register with an e-mail and a mobile typed loosely ("138 0013 8000"): 获取验证码 → the task worker sends the
code through the default (log) SMS backend, and the test reads it from the serve log → register → log out
→ log in with the number in another form ("+86 13800138000") → the security page shows it masked. And the
refusal: a wrong code is rejected on the page and no account is created.
"""

import re
import time
from pathlib import Path

import pytest

from wuji.portal.tests.test_e2e_browser import CHROMIUM, page, platform_url  # noqa: F401 — fixtures

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is missing"),
]

CODE_WITHIN_SECONDS = 30


@pytest.fixture(scope="module")
def serve_log(platform_url, tmp_path_factory) -> Path:  # noqa: F811
    """The log of the `wuji serve` behind `platform_url` (it announces its address on its first line).

    `platform_url` writes it to `<basetemp>/e2eN/serve.log`; when several e2e modules run in one session,
    the newest log that announces this address is ours.
    """
    def number(log: Path) -> int:
        return int(re.sub(r"\D", "", log.parent.name) or 0)

    ours = [log for log in tmp_path_factory.getbasetemp().glob("e2e*/serve.log")
            if f"{platform_url}/" in log.read_text(errors="replace")]
    assert ours, f"no serve.log announcing {platform_url}"
    return max(ours, key=number)


def log_size(log: Path) -> int:
    return log.stat().st_size


def sms_code(log: Path, phone_e164: str, since: int) -> str:
    """The code the log SMS backend sent to `phone_e164` after byte `since` of the serve log (bounded wait)."""
    sent = re.compile(rf"SMS to {re.escape(phone_e164)} template=\S+ params=\{{'code': '(\d{{6}})'\}}")
    deadline = time.monotonic() + CODE_WITHIN_SECONDS
    while time.monotonic() < deadline:
        with open(log, "rb") as f:
            f.seek(since)
            found = sent.findall(f.read().decode(errors="replace"))
        if found:
            return found[-1]
        time.sleep(0.2)
    pytest.fail(f"no SMS to {phone_e164} in the serve log within {CODE_WITHIN_SECONDS} s:\n"
                f"{log.read_text(errors='replace')[-4000:]}")


def request_code(tab, log: Path, email: str, phone_typed: str, phone_e164: str) -> str:
    """Fill the register form up to the phone, press 获取验证码, return the code the worker sent."""
    from playwright.sync_api import expect

    tab.goto("/register/")
    tab.get_by_label("电子邮箱").fill(email)
    tab.get_by_label("手机号码（可选）").fill(phone_typed)
    since = log_size(log)
    tab.get_by_role("button", name="获取验证码").click()
    expect(tab.locator(".messages")).to_contain_text(
        f"验证码已发送至 {phone_e164[3:6]}****{phone_e164[-4:]}，5 分钟内有效。")
    # The page keeps what was typed (password fields are never echoed back by Django, so they are typed now).
    expect(tab.get_by_label("电子邮箱")).to_have_value(email)
    expect(tab.get_by_label("手机号码（可选）")).to_have_value(phone_typed)
    return sms_code(log, phone_e164, since)


def submit_registration(tab, password: str, code: str) -> None:
    tab.locator("#id_password1").fill(password)
    tab.locator("#id_password2").fill(password)
    tab.get_by_label("短信验证码").fill(code)
    tab.locator("#id_accept_agreement").check()
    tab.get_by_role("button", name="同意协议并注册").click()


def log_in(tab, login: str, password: str) -> None:
    tab.goto("/accounts/login/")
    tab.locator("input[name=login]").fill(login)
    tab.locator("input[name=password]").fill(password)
    tab.locator("main form button[type=submit]").first.click()


def test_register_with_phone_then_log_in_with_it(page, serve_log):  # noqa: F811
    from playwright.sync_api import expect

    email, password = "phone-e2e@example.com", "Phone-Browser-2024!"
    code = request_code(page, serve_log, email, "138 0013 8000", "+8613800138000")
    submit_registration(page, password, code)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("注册成功")).to_be_visible()

    # Log out; log in with the phone number in another form.
    page.locator(".topbar form button[type=submit]", has_text="退出").click()
    expect(page.locator(".topbar form button[type=submit]", has_text="退出")).to_have_count(0)
    log_in(page, "+86 13800138000", password)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # The security page shows the number masked, and the e-mail it belongs to.
    page.goto("/security/")
    basics = page.locator("dl.props").first
    expect(basics).to_contain_text("138****8000")
    expect(basics).to_contain_text(email)
    expect(basics).not_to_contain_text("13800138000")


def test_wrong_code_is_refused_and_creates_no_account(page, serve_log):  # noqa: F811
    from playwright.sync_api import expect

    email, password = "wrong-code-e2e@example.com", "Wrong-Code-2024!"
    code = request_code(page, serve_log, email, "139-0013-9000", "+8613900139000")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    submit_registration(page, password, wrong)
    expect(page).to_have_url(re.compile(r"/register/$"))
    expect(page.locator(".field.has-error", has=page.get_by_label("短信验证码"))).to_contain_text(
        "验证码错误，还可尝试 4 次。")
    expect(page.get_by_text("注册成功")).to_have_count(0)

    # No account: neither the e-mail nor the number signs in.
    for login in (email, "13900139000"):
        log_in(page, login, password)
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        expect(page.locator("main")).to_contain_text("邮箱/手机号或密码不正确")
