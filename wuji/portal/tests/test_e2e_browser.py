"""The golden path in a real browser against real processes.

A fresh SQLite database in a temporary directory, `wuji migrate`, `wuji demo --setup-only` (the demo
catalogue on libvirt's test hypervisor) and `wuji serve` (gunicorn, one task worker, the scheduler);
then Debian's Chromium, driven by Playwright: register → top up → buy → active → restart → instruction log.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ACTIVE_WITHIN_SECONDS = 60
STAFF: dict[str, str] = {}  # the console account `wuji demo --setup-only` prints

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]


def wuji_command() -> list[str]:
    script = Path(sys.executable).with_name("wuji")
    return [str(script)] if script.exists() else [sys.executable, "-m", "wuji.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`wuji serve` exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"`wuji serve` did not listen on port {port} within {timeout} s:\n{log.read_text()[-4000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop `wuji serve` and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def platform_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/e2e.sqlite3", "WUJI_VAR_DIR": str(tmp),
           "WUJI_SANDBOX_PAYMENTS": "1", "DJANGO_SETTINGS_MODULE": "wuji.settings", "PYTHONUNBUFFERED": "1"}
    env.pop("WUJI_TEST_SQLITE_NAME", None)
    wuji = wuji_command()
    for args in (["migrate", "--no-input"], ["demo", "--setup-only"]):
        done = subprocess.run([*wuji, *args], env=env, cwd=tmp, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"wuji {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    STAFF.update(re.findall(r"Staff (login|password):\s+(\S+)", done.stdout))
    port = free_port()
    log = tmp / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*wuji, "serve", "--port", str(port)], env=env, cwd=tmp, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def serve_this_checkout():
    """`wuji serve` runs in a temporary directory: make it import this checkout's `wuji` (the one under test),
    not whichever checkout the virtualenv's console script was installed from. Modules whose platform must run
    this checkout use it as an autouse fixture."""
    root = str(Path(__file__).resolve().parents[3])
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, before) if p)
    yield
    if before is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = before


@pytest.fixture
def page(platform_url):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # as long as actions wait: CI runs two test legs on two cores
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", base_url=platform_url)
        context.set_default_timeout(15_000)
        page = context.new_page()
        refused = []  # Content Security Policy violations Chromium reports: none on any page
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        try:
            yield page
            assert refused == []
        finally:
            context.close()
            browser.close()


def wait_until_active(page, server_url: str) -> None:
    """Reload the server page (bounded) until it is 运行中 with no operation in flight."""
    deadline = time.monotonic() + ACTIVE_WITHIN_SECONDS
    state = ""
    while time.monotonic() < deadline:
        page.goto(server_url)
        state = page.get_by_test_id("server-state").inner_text()
        if "运行中" in state and not page.locator("[data-testid=server-state] .badge-busy").count():
            return
        assert "故障" not in state, page.content()
        time.sleep(1)
    pytest.fail(f"the server did not become active within {ACTIVE_WITHIN_SECONDS} s (last state: {state!r})")


def approve_in_the_console(browser, platform_url: str) -> None:
    """The demo's staff account, in its own browser context, approves the pending verification."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN", base_url=platform_url)
    context.set_default_timeout(15_000)
    try:
        staff = context.new_page()
        staff.goto("/console/login/")
        staff.locator("#id_username").fill(STAFF["login"])
        staff.locator("#id_password").fill(STAFF["password"])
        staff.locator("input[type=submit]").click()
        staff.goto("/console/identity/verification/?status__exact=pending")
        staff.locator("#result_list tbody tr").first.locator("th a").click()
        expect(staff.get_by_test_id("review-box")).to_be_visible()
        staff.locator("button[name=decision][value=approve]").click()
        expect(staff.locator(".messagelist")).to_contain_text("1101**********1233")
    finally:
        context.close()


def test_golden_path_in_the_browser(page, platform_url):
    from playwright.sync_api import expect

    email, password = "e2e@example.com", "E2e-Browser-2024!"

    # Register, ticking the agreement.
    page.goto("/register/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_label("电子邮箱").fill(email)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.locator("#id_accept_agreement").check()
    page.get_by_role("button", name="同意协议并注册").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("注册成功")).to_be_visible()
    # The stylesheet is served (WhiteNoise): the top bar is dark, not the browser's default.
    assert page.locator(".topbar").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(16, 26, 43)"

    # Top up through the clearly labelled demo gateway.
    page.get_by_role("link", name="钱包").click()
    page.get_by_label("充值金额（元）").fill("100")
    page.get_by_role("button", name="去支付").click()
    expect(page).to_have_url(re.compile(r"/wallet/topup/T\w+/pay/$"))
    expect(page.get_by_text("演示支付网关 — 不会真实扣款 / Demo gateway — no real money moves")).to_be_visible()
    page.get_by_role("button", name="确认支付").click()
    expect(page).to_have_url(re.compile(r"/wallet/$"))
    expect(page.get_by_text("充值成功")).to_be_visible()
    expect(page.get_by_test_id("balance-cash")).to_have_text("¥100.00")

    # Real-name verification (2.1): the customer applies in the portal, staff approve in the console.
    page.get_by_role("link", name="实名认证").click()
    page.get_by_label("真实姓名").fill("张三")
    page.get_by_label("身份证号码").fill("110101199003071233")
    page.get_by_role("button", name="提交个人认证").click()
    expect(page.get_by_test_id("masked-number")).to_have_text("1101**********1233")
    approve_in_the_console(page.context.browser, platform_url)
    page.reload()
    expect(page.get_by_test_id("identity-status")).to_contain_text("已认证")

    # Buy: choose, see the price in force, confirm.
    page.get_by_role("link", name="购买", exact=True).click()
    page.get_by_label("华东-赣州").check()
    page.get_by_label("入门型 1核1G").check()
    page.get_by_label("Debian 12").check()
    page.get_by_label("服务器名称").fill("e2e-web")
    page.get_by_role("button", name="下一步：确认价格").click()
    expect(page.get_by_test_id("price")).to_have_text("¥29.00")
    page.get_by_role("button", name="确认购买").click()
    expect(page).to_have_url(re.compile(r"/servers/\d+/$"))
    expect(page.get_by_test_id("root-password")).to_be_visible()
    server_url = page.url

    # The worker provisions it on the hypervisor; the page moves from 创建中 to 运行中.
    wait_until_active(page, server_url)
    expect(page.get_by_text("root 密码（仅显示这一次）")).to_have_count(0)

    # Restart.
    page.locator("button[data-operation=reboot]").click()
    expect(page.get_by_text("指令已受理：重启。")).to_be_visible()
    wait_until_active(page, server_url)

    # The restart is in the instruction log.
    page.get_by_role("link", name="指令记录").click()
    rows = page.get_by_test_id("instructions").locator("tbody tr")
    expect(rows.filter(has_text="重启").first).to_be_visible()
    expect(rows.filter(has_text="重启").filter(has_text="成功")).to_have_count(1)
    expect(rows.filter(has_text="购买服务器").filter(has_text="已受理")).to_have_count(1)
