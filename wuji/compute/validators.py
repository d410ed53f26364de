"""Validation of node settings entered by staff in the console."""

import ipaddress
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# qemu+tcp is left out on purpose: it is neither encrypted nor authenticated. fake:// is the in-memory
# driver of tests and demos; test:// is libvirt's own in-process test node.
REMOTE_SCHEMES = ("qemu+ssh", "qemu+tls")
LOCAL_SCHEMES = ("qemu", "qemu+unix")
TEST_SCHEMES = ("test", "fake")
QEMU_PATHS = ("/system", "/session")
# Where a node's VNC displays may listen: loopback, RFC 1918 and unique local IPv6 (RFC 4193) — a management
# network, never a public address nor a wildcard (a display has no password; the proxy is its only door).
CONSOLE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))


def validate_libvirt_uri(uri: str) -> None:
    """A node URI libvirt can open and the platform supports: qemu[+unix]:///system, qemu+ssh://host/system,
    qemu+tls://host/system, test:///default (or test:///absolute/fixture.xml) and fake://name."""
    parsed = urlparse(uri)
    if parsed.scheme in TEST_SCHEMES:
        if parsed.scheme == "test" and not parsed.path.startswith("/"):
            raise ValidationError(_("test 节点的 URI 应为 test:///default 或 test:///绝对路径.xml。"), code="uri")
        return
    if parsed.scheme not in REMOTE_SCHEMES + LOCAL_SCHEMES:
        raise ValidationError(
            _("不支持的 libvirt URI 协议“%(scheme)s”：请使用 qemu、qemu+ssh 或 qemu+tls。"),
            code="uri_scheme", params={"scheme": parsed.scheme or "—"})
    if parsed.scheme in REMOTE_SCHEMES and not parsed.hostname:
        raise ValidationError(_("远程节点的 URI 必须包含主机名，例如 qemu+ssh://root@node1/system。"), code="uri_host")
    if parsed.scheme in LOCAL_SCHEMES and parsed.netloc:
        raise ValidationError(_("本机节点的 URI 不能包含主机名，例如 qemu:///system。"), code="uri_host")
    if parsed.path not in QEMU_PATHS:
        raise ValidationError(_("QEMU 节点的 URI 路径应为 /system 或 /session。"), code="uri_path")


def validate_console_address(address: str) -> None:
    """The address a node's VNC displays listen on must be loopback or private (RFC 1918 / ULA): a display
    facing the Internet could be opened by anyone who finds its port, without a console token."""
    ip = ipaddress.ip_address(address)  # the model field has already refused a non-address
    if not any(ip in network for network in CONSOLE_NETWORKS):
        raise ValidationError(
            _("控制台监听地址 %(address)s 不是内网地址：VNC 显示不得暴露在公网上，请填写节点管理网络的地址"
              "（127.0.0.0/8、10.0.0.0/8、172.16.0.0/12、192.168.0.0/16 或 fc00::/7）。"),
            code="console_public", params={"address": address})
