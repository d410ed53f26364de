#!/usr/bin/env python3
"""Build the tiny bootable guest (decision 0021) from Debian packages; run by build-guest-image.sh as root.

Downloads the current `linux-image-*-amd64` kernel package and `busybox-static` into a cache directory,
extracts the uncompressed `vmlinux` from the kernel's bzImage (QEMU boots it directly, PVH, in about
5 s under TCG instead of 12 s), writes a busybox initramfs whose /init is INIT below, and two small qcow2
disks carrying the markers of `wuji/compute/tinyguest.py`, then installs everything into the libvirt
pool directory. Idempotent and fast the second time: when this builder and the shared names are unchanged
and every output exists, it does nothing, not even asking apt (a stamp in the cache directory records
the last build). `--rebuild` builds again, picking up a newer kernel; downloaded packages are reused.

Standard library only; uses `apt-get`, `apt-cache`, `dpkg-deb` and `qemu-img`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import lzma
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TINYGUEST_FILE = HERE.parent / "wuji" / "compute" / "tinyguest.py"


def _load_tinyguest():
    """The shared names and markers, loaded by path, so any python3 runs this script without the platform installed."""
    spec = importlib.util.spec_from_file_location("tinyguest", TINYGUEST_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tinyguest = _load_tinyguest()

KERNEL_META_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
# What /init loads (their dependencies are added): the disk, the NIC driver, and the ACPI power button
# as an input device (evdev) that acpid listens to.
MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "evdev", "button")

INIT = """#!/bin/busybox sh
# Wuji tiny guest (decision 0021). No network: no DHCP, no traffic.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
say() {{ echo "{prefix} $*"; }}
wait_for() {{  # a device node, up to 10 s
    tries=0
    while [ ! -e "$1" ] && [ "$tries" -lt 100 ]; do usleep 100000; tries=$((tries + 1)); done
    [ -e "$1" ]
}}
say booted
depmod
for module in {modules}; do
    modprobe "$module" || say "module $module failed"
done
if wait_for /dev/vda; then
    say "disk $(dd if=/dev/vda bs=512 count=1 2>/dev/null | tr -d '\\000' | head -n 1)"
    count=$(dd if=/dev/vda bs=512 skip=1 count=1 2>/dev/null | tr -dc 0-9)
    count=$((${{count:-0}} + 1))
    echo "$count" | dd of=/dev/vda bs=512 seek=1 count=1 conv=sync 2>/dev/null
    sync
    say "boot $count"
else
    say "no disk"
fi
# -d: stay in the foreground and log to the console (by default acpid wants /var/log/acpid.log).
# acpid writes its pid file once it listens: only then is the guest ready for the power button.
if wait_for /dev/input/event0; then
    acpid -d -p /run/acpid.pid &
    wait_for /run/acpid.pid && say ready
else
    say "no power button"
fi
while true; do sleep 3600; done
"""

# busybox acpid runs /etc/acpi/PWRF/00000080 for the power button (its built-in event table).
POWER_BUTTON_ACTION = """#!/bin/sh
echo "{power_button}" >/dev/console
sync
poweroff -f
"""


def log(message: str) -> None:
    print(f"build-guest-image: {message}", flush=True)


def run(*args: str, **kwargs) -> str:
    return subprocess.run(args, check=True, text=True, stdout=subprocess.PIPE, **kwargs).stdout


# --- packages ---------------------------------------------------------------------------------------


def kernel_package() -> str:
    """The versioned kernel package Debian's `linux-image-amd64` currently points at."""
    for attempt in range(2):
        out = subprocess.run(["apt-cache", "depends", KERNEL_META_PACKAGE], text=True, capture_output=True).stdout
        for line in out.splitlines():
            name = line.strip().removeprefix("Depends: ")
            if name.startswith("linux-image-") and name.endswith("-amd64") and name != KERNEL_META_PACKAGE:
                return name
        if attempt == 0:
            log("package lists lack the kernel: apt-get update")
            run("apt-get", "update", "-qq")
    raise SystemExit(f"build-guest-image: cannot resolve {KERNEL_META_PACKAGE} (no apt lists?)")


def fetch(packages: list[str], cache: Path) -> list[Path]:
    """The packages' .deb files in ``cache`` (in the order asked), downloading only versions not there yet."""
    # --print-uris reads the local lists: one line "'URL' FILENAME SIZE HASH" per package, in apt's order.
    filenames = [line.split()[1] for line in run("apt-get", "download", "--print-uris", *packages).splitlines()]
    debs = [cache / next(f for f in filenames if f.startswith(f"{package}_")) for package in packages]
    missing = [package for package, deb in zip(packages, debs, strict=True) if not deb.exists()]
    if missing:
        log(f"downloading {' '.join(missing)}")
        run("apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", *missing, cwd=cache)
    return debs


# --- kernel -------------------------------------------------------------------------------------------


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The uncompressed ELF kernel inside a bzImage (boot protocol >= 2.08: payload offset and length)."""
    if bzimage[0x202:0x206] != b"HdrS":
        raise ValueError("not a bzImage")
    setup_sectors = bzimage[0x1F1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", bzimage, 0x248)
    start = (setup_sectors + 1) * 512 + payload_offset
    payload = bzimage[start : start + payload_length]
    if not payload.startswith(b"\xfd7zXZ\x00"):
        raise ValueError("the bzImage payload is not XZ")
    vmlinux = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(payload)
    if not vmlinux.startswith(b"\x7fELF"):
        raise ValueError("the bzImage payload is not an ELF kernel")
    return vmlinux


def module_depends(ko: bytes) -> list[str]:
    """The ``depends=`` entry of a kernel module's .modinfo section (ELF64 little-endian)."""
    shoff = struct.unpack_from("<Q", ko, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ko, 0x3A)

    def section(index: int) -> tuple[int, int, int]:  # name offset, file offset, size
        name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", ko, shoff + index * shentsize)
        return name, offset, size

    _, strtab, _ = section(shstrndx)
    for index in range(shnum):
        name, offset, size = section(index)
        if ko[strtab + name : ko.index(b"\0", strtab + name)] == b".modinfo":
            for entry in ko[offset : offset + size].split(b"\0"):
                if entry.startswith(b"depends="):
                    return [d for d in entry[len(b"depends=") :].decode().split(",") if d]
            return []
    raise ValueError("no .modinfo section")


def module_closure(modules_root: Path, wanted: tuple[str, ...]) -> list[Path]:
    """The .ko files of ``wanted`` and everything they depend on."""
    by_name = {p.stem.replace("-", "_"): p for p in modules_root.rglob("*.ko")}
    found: dict[str, Path] = {}
    todo = [name.replace("-", "_") for name in wanted]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = by_name[name]
        todo.extend(d.replace("-", "_") for d in module_depends(found[name].read_bytes()))
    return sorted(found.values())


# --- initramfs -----------------------------------------------------------------------------------------


class Cpio:
    """A cpio archive in the "newc" format the kernel unpacks as its initramfs (owner root, mtime 0)."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.inode = 0

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        self.inode += 1
        encoded = name.encode() + b"\0"
        nlink = 2 if mode & 0o040000 else 1
        fields = (self.inode, mode, 0, 0, nlink, 0, len(data), 0, 0, *rdev, len(encoded), 0)
        self.out.write(b"070701" + "".join(f"{value:08X}" for value in fields).encode() + encoded)
        self._pad()
        self.out.write(data)
        self._pad()

    def _pad(self) -> None:
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def directory(self, name: str) -> None:
        self._entry(name, 0o040755)

    def file(self, name: str, data: bytes, executable: bool = False) -> None:
        self._entry(name, 0o100755 if executable else 0o100644, data)

    def char_device(self, name: str, major: int, minor: int) -> None:
        self._entry(name, 0o020600, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def build_initramfs(kernel_root: Path, busybox: bytes) -> bytes:
    (modules_dir,) = (kernel_root / "lib" / "modules").iterdir()
    archive = Cpio()
    for directory in ("bin", "dev", "proc", "run", "sys", "etc", "etc/acpi", "etc/acpi/PWRF"):
        archive.directory(directory)
    # The kernel opens /dev/console for /init before devtmpfs is mounted.
    archive.char_device("dev/console", 5, 1)
    archive.file("bin/busybox", busybox, executable=True)
    archive.file("init", INIT.format(prefix=tinyguest.PREFIX, modules=" ".join(MODULES)).encode(), executable=True)
    action = POWER_BUTTON_ACTION.format(power_button=tinyguest.POWER_BUTTON)
    archive.file("etc/acpi/PWRF/00000080", action.encode(), executable=True)
    target = f"lib/modules/{modules_dir.name}"
    made = set()
    for ko in module_closure(modules_dir / "kernel", MODULES):
        relative = ko.relative_to(kernel_root).parent
        for depth in range(len(relative.parts)):
            parent = "/".join(relative.parts[: depth + 1])
            if parent not in made:
                archive.directory(parent)
                made.add(parent)
        archive.file(f"{relative}/{ko.name}", ko.read_bytes())
    archive.file(f"{target}/modules.builtin", (modules_dir / "modules.builtin").read_bytes())
    return archive.finish()


# --- disks ----------------------------------------------------------------------------------------------


def build_disk(marker: str, work: Path) -> bytes:
    """A qcow2 image whose first sector reads ``marker``; the second (the boot counter) is zero."""
    raw, qcow2 = work / f"{marker}.raw", work / f"{marker}.qcow2"
    with raw.open("wb") as f:
        f.write(f"{marker}\n".encode())
        f.truncate(tinyguest.DISK_SIZE_MIB * 1024 * 1024)
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2))
    return qcow2.read_bytes()


# --- the build ----------------------------------------------------------------------------------------


def install(pool: Path, name: str, data: bytes) -> None:
    """Write atomically: a running guest keeps the file it opened."""
    tmp = pool / f".{name}.part"
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, pool / name)


def build(kernel_deb: Path, busybox_deb: Path, work: Path) -> dict[str, bytes]:
    kernel_root, busybox_root = work / "kernel", work / "busybox"
    log(f"extracting {kernel_deb.name}")
    run("dpkg-deb", "-x", str(kernel_deb), str(kernel_root))
    run("dpkg-deb", "-x", str(busybox_deb), str(busybox_root))
    (vmlinuz,) = (kernel_root / "boot").glob("vmlinuz-*")
    outputs = {
        tinyguest.KERNEL_VOLUME: extract_vmlinux(vmlinuz.read_bytes()),
        tinyguest.INITRD_VOLUME: build_initramfs(kernel_root, (busybox_root / "bin" / "busybox").read_bytes()),
    }
    for volume, marker in tinyguest.DISK_MARKERS.items():
        outputs[volume] = build_disk(marker, work)
    return outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/var/cache/wuji-guest"))
    parser.add_argument("--pool", type=Path, default=Path(tinyguest.POOL_DIR))
    parser.add_argument("--rebuild", action="store_true", help="build even when up to date")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    args.pool.mkdir(parents=True, exist_ok=True)
    names = (tinyguest.KERNEL_VOLUME, tinyguest.INITRD_VOLUME, *tinyguest.DISK_VOLUMES)
    recipe = hashlib.sha256(Path(__file__).read_bytes() + TINYGUEST_FILE.read_bytes()).hexdigest()
    stamp = args.cache / "stamp"
    last = stamp.read_text().split() if stamp.exists() else []
    if not args.rebuild and last[:1] == [recipe] and all((args.pool / n).exists() for n in names):
        log(f"up to date in {args.pool} (built from {' '.join(last[1:])})")
        return
    debs = fetch([kernel_package(), BUSYBOX_PACKAGE], args.cache)
    with tempfile.TemporaryDirectory(dir=args.cache) as work:
        outputs = build(*debs, Path(work))
    for name, data in outputs.items():
        install(args.pool, name, data)
        log(f"wrote {args.pool / name} ({len(data) // 1024} KiB)")
    stamp.write_text(" ".join([recipe, *(deb.name for deb in debs)]))


if __name__ == "__main__":
    sys.exit(main())
