"""The tiny bootable guest that `scripts/build-guest-image.sh` puts in a node's storage pool.

A Debian kernel booted directly (no firmware, no boot loader) with a busybox initramfs, and two small
qcow2 "OS images" whose first sector carries a distinct marker. The guest prints what it does on its
serial console, which is how tests and the demo see it work without any network (decision 0021):

    WUJI-GUEST: booted            the initramfs is running
    WUJI-GUEST: disk WUJI-DISK-A  the marker in the first sector of /dev/vda (A or B: which image)
    WUJI-GUEST: boot 2            a counter kept in the second sector of /dev/vda (did the disk survive?)
    WUJI-GUEST: ready             acpid is listening for the ACPI power button
    WUJI-GUEST: power button      the power button was pressed; the guest powers off by itself

Plain Python with no imports from the platform: the build script loads it without Django. Tests and
the demo read the console with :func:`wait_for_console`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

POOL_DIR = "/var/lib/libvirt/images"  # the `default` pool scripts/setup-libvirt.sh defines
KERNEL_VOLUME = "wuji-tiny-vmlinux"
INITRD_VOLUME = "wuji-tiny-initrd.img"
# tty0 too, so the VNC console shows the boot; the last console= is /dev/console, where the markers go.
CMDLINE = "console=tty0 console=ttyS0 quiet"
DISK_MARKERS = {"wuji-tiny-a.qcow2": "WUJI-DISK-A", "wuji-tiny-b.qcow2": "WUJI-DISK-B"}
DISK_VOLUMES = tuple(DISK_MARKERS)
DISK_SIZE_MIB = 64

PREFIX = "WUJI-GUEST:"
BOOTED = f"{PREFIX} booted"
READY = f"{PREFIX} ready"
POWER_BUTTON = f"{PREFIX} power button"

# The catalogue entry `wuji demo` registers when WUJI_DEMO_QEMU=1 (the demo's "tiny-linux" image).
DEMO_IMAGE_CODE = "tiny-linux"


def disk_line(volume: str) -> str:
    """The console line of a guest booted from a disk made from ``volume``."""
    return f"{PREFIX} disk {DISK_MARKERS[volume]}"


def boot_line(count: int) -> str:
    """The console line of the ``count``-th boot from the same disk (1 on a fresh disk)."""
    return f"{PREFIX} boot {count}"


def last_boot(lines: list[str]) -> list[str]:
    """What the guest printed since it last booted (after the last BOOTED line)."""
    return lines[len(lines) - lines[::-1].index(BOOTED) :]


def console_lines(path: str) -> list[str]:
    """The guest's serial console so far, from the log file libvirt writes ([] before there is one)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return [line.rstrip("\r\n") for line in log]
    except FileNotFoundError:
        return []


def wait_for_console(path: str, done: Callable[[list[str]], bool], timeout: float) -> list[str]:
    """Poll the serial log until ``done(lines)`` and return the lines; TimeoutError (with the log) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done(lines := console_lines(path)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"guest console not as expected after {timeout} s; {path}:\n" + "\n".join(lines))
        time.sleep(0.2)
    return lines
