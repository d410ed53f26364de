"""The VNC console in a real browser: Chromium opens the console page, noVNC connects through the console proxy
to the VNC display of a real QEMU domain on qemu:///system, and the page reports 已连接.

The domain has no disk (and no NIC): it sits in the firmware, which draws on the VNC display. Everything
listens on 127.0.0.1. Opt-in like the driver contract's real-QEMU leg: WUJI_TEST_LIBVIRT_SYSTEM=1.
"""

import os
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from wuji.compute.drivers.libvirt import DiskConfig, DomainConfig, SerialConfig, VncConfig
from wuji.compute.models import ConsoleToken, Node, Server
from wuji.compute.tests.console_support import running_server, serving_proxy

from .test_e2e_browser import CHROMIUM, CHROMIUM_ARGS

QEMU_SYSTEM = "qemu:///system"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),  # the live server and the proxy read from their own threads
    pytest.mark.skipif(os.environ.get("WUJI_TEST_LIBVIRT_SYSTEM") != "1",
                       reason="real QEMU is opt-in: WUJI_TEST_LIBVIRT_SYSTEM=1 after scripts/setup-libvirt.sh"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]


def qemu_connection():
    libvirt = pytest.importorskip("libvirt")
    try:
        return libvirt.open(QEMU_SYSTEM)
    except libvirt.libvirtError as exc:
        pytest.skip(f"{QEMU_SYSTEM} does not answer: {exc}")


def diskless_domain_xml(uuid: str) -> str:
    """The driver's own domain definition for this uuid, minus the disk: the firmware finds nothing to boot."""
    config = DomainConfig(virt_type="qemu", uuid=uuid, title="wuji console e2e", vcpus=1, memory_mib=64,
                          disk=DiskConfig("/nonexistent.qcow2"), serial=SerialConfig(), graphics=VncConfig())
    domain = ET.fromstring(config.to_xml())
    devices = domain.find("devices")
    devices.remove(devices.find("disk"))
    return ET.tostring(domain, encoding="unicode")


@pytest.fixture
def server_on_qemu(catalogue):
    """A running server whose node is the real qemu:///system, with its (disk-less) domain running there."""
    conn = qemu_connection()
    server = running_server(catalogue, "vnc@example.com")
    node = Node.objects.create(name="qemu-system", region=server.region, uri=QEMU_SYSTEM, virt_type="qemu",
                               vcpus=2, memory_mib=2048, disk_gib=20)
    Server.objects.filter(pk=server.pk).update(node=node)
    domain = conn.defineXML(diskless_domain_xml(str(server.uuid)))
    try:
        domain.create()
        yield server
    finally:
        if domain.isActive():
            domain.destroy()
        domain.undefine()
        conn.close()


def test_the_console_page_shows_the_server_screen_connected(server_on_qemu, live_server, settings):
    from playwright.sync_api import expect, sync_playwright

    client = Client()
    client.force_login(server_on_qemu.owner)
    session = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    with serving_proxy() as proxy_port:
        settings.WUJI_CONSOLE_URL = f"ws://127.0.0.1:{proxy_port}/"
        # No ORM call from here until the browser is gone: Playwright's sync API runs an event loop here.
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(locale="zh-CN", base_url=live_server.url)
                context.set_default_timeout(30_000)
                context.add_cookies([session])
                page = context.new_page()
                refused = []  # Content Security Policy violations Chromium reports
                page.on("console", lambda message: refused.append(message.text)
                        if "Content Security Policy" in message.text else None)
                page.goto(f"/servers/{server_on_qemu.pk}/")
                page.get_by_test_id("open-console").click()
                status = page.get_by_test_id("console-status")
                expect(status).to_have_text("已连接")
                expect(status).to_have_attribute("data-state", "connected")
                canvas = page.locator("[data-testid=console-screen] canvas")
                expect(canvas).to_be_visible()
                assert canvas.evaluate("c => c.width * c.height") > 0  # the guest's framebuffer arrived
                page.get_by_test_id("connect-console").click()  # 重新连接: a fresh token, the first is spent
                expect(status).to_have_text("已连接")
                assert refused == []
            finally:
                browser.close()
    assert ConsoleToken.objects.filter(server=server_on_qemu, used_at__isnull=False).count() == 2
