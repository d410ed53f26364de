"""Validation of node settings entered by staff in the console."""

from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# qemu+tcp is left out on purpose: it is neither encrypted nor authenticated. fake:// is the in-memory
# driver of tests and demos; test:// is libvirt's own in-process test node.
REMOTE_SCHEMES = ("qemu+ssh", "qemu+tls")
LOCAL_SCHEMES = ("qemu", "qemu+unix")
TEST_SCHEMES = ("test", "fake")
QEMU_PATHS = ("/system", "/session")


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
