"""Faults, nothing lost (issue 8): libvirtd is restarted while real QEMU guests run (decision 0053).

Opt-in real QEMU (WUJI_TEST_LIBVIRT_SYSTEM=1, after scripts/setup-libvirt.sh and build-guest-image.sh), like
the other real-QEMU tests. The daemon that is stopped and started again is the test's own: a second system
libvirtd (with its own virtlogd) in a private mount namespace, over copies of /etc/libvirt, /run/libvirt and
/var/lib/libvirt, reached at `qemu:///system?socket=<its socket>`. It is the same binary, started the way
scripts/setup-libvirt.sh starts the shared one (`virtlogd -d`, `libvirtd -d`) and stopped with SIGTERM; the
shared daemon, other sessions' guests and the host's networks are never touched. Guests are the tiny guest
(no NIC); they are verified only through libvirt and their serial log, never over a network.

What is proved, through the platform's services and tasks:
- QEMU processes survive a restart (same pids) and the guests keep running;
- a soft reboot in flight inside libvirt when the daemon goes down (the guest powers off while no daemon
  runs) is finished by the restarted daemon: the guest boots again from the same disk;
- the driver's cached connection, idle across the restart, is replaced before the next operation: a stop
  right after the restart succeeds (it failed with "node unreachable" before decision 0053's probe);
- an operation run while the daemon is down fails with an outcome and a clear message, never stays in a
  task state; the health check marks the node down (no new servers placed there, the order is refused
  and nothing is charged), the reconciler leaves the servers alone while it cannot see them and restores
  their state once the daemon is back; the operation asked again then succeeds;
- each order charged exactly once, nothing refunded, ledger and audit chains verify.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.billing.models import Subscription
from wuji.catalog.models import Image, Plan
from wuji.compute import nodes, tasks, tinyguest
from wuji.compute.choices import Operation, PowerState, VmState
from wuji.compute.models import Node, Server
from wuji.core import clock, demo, testing
from wuji.ledger import services as ledger

from .test_operations import operate

pytestmark = pytest.mark.skipif(os.environ.get("WUJI_TEST_LIBVIRT_SYSTEM") != "1",
                                reason="real QEMU is opt-in: WUJI_TEST_LIBVIRT_SYSTEM=1 after scripts/setup-libvirt.sh")

BOOT_TIMEOUT = 240  # seconds; a boot takes 5-20 s, much longer when the cores are shared
DAEMON_TIMEOUT = 30
BALANCE_FEN = 200_00  # three orders' worth: the third is refused for the node, not the balance

# Runs inside `unshare -m --propagation private` as root: the private daemon's view of libvirt's directories,
# then its two daemons (each double-forks away), then a holder that keeps the namespace for `nsenter`.
NAMESPACE_SCRIPT = """set -eu
mount --bind "$1/etc" /etc/libvirt
mount --bind "$1/run" /run/libvirt
mount --bind "$1/lib" /var/lib/libvirt
virtlogd -d -p "$1/virtlogd.pid"
libvirtd -d -p "$1/libvirtd.pid"
exec sleep 86400
"""


def _running(pid: int) -> bool:
    """A live process (a zombie, waiting for init to reap it, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class PrivateLibvirtd:
    """A system libvirtd of this test's own, restartable without disturbing anybody else's."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="wuji-lvd-"))  # short: a unix socket path has 108 bytes
        self.uri = f"qemu:///system?socket={self.root}/run/libvirt-sock"
        self.holder: subprocess.Popen | None = None

    def setup(self) -> None:
        root = self.root
        root.chmod(0o755)  # QEMU runs as libvirt-qemu and must reach the disks under lib/images
        shutil.copytree("/etc/libvirt", root / "etc", symlinks=True)
        for defined in ("qemu", "storage"):  # no domain, pool or network of the shared daemon
            shutil.rmtree(root / "etc" / defined)
            (root / "etc" / defined).mkdir()
        (root / "run").mkdir()
        images = root / "lib" / "images"
        images.mkdir(parents=True)
        images.chmod(0o711)
        (root / "lib").chmod(0o755)
        qemu_lib = root / "lib" / "qemu"
        qemu_lib.mkdir()
        shutil.chown(qemu_lib, "libvirt-qemu", "libvirt-qemu")
        qemu_lib.chmod(0o750)
        for volume in (tinyguest.KERNEL_VOLUME, tinyguest.INITRD_VOLUME, *tinyguest.DISK_VOLUMES):
            shutil.copy(Path(tinyguest.POOL_DIR) / volume, images / volume)
        self.holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT,
                                        "sh", str(root)], start_new_session=True)
        self.wait_answering()
        conn = self.open()
        try:
            pool = conn.storagePoolDefineXML("<pool type='dir'><name>default</name><target>"
                                             "<path>/var/lib/libvirt/images</path></target></pool>")
            pool.create()
            assert set(pool.listVolumes()) >= set(tinyguest.DISK_VOLUMES)
        finally:
            conn.close()

    def open(self):
        import libvirt

        return libvirt.open(self.uri)

    def daemon_pid(self) -> int:
        return int((self.root / "libvirtd.pid").read_text())

    def wait_answering(self) -> None:
        import libvirt

        deadline = time.monotonic() + DAEMON_TIMEOUT
        while True:
            assert self.holder is not None and self.holder.poll() is None, "the namespace holder exited"
            try:
                conn = libvirt.open(self.uri)
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            conn.getLibVersion()
            conn.close()
            return

    def stop(self) -> None:
        """SIGTERM to the daemon (by its pid file), then wait until it is gone."""
        pid = self.daemon_pid()
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + DAEMON_TIMEOUT
        while _running(pid):
            assert time.monotonic() < deadline, f"libvirtd {pid} did not stop"
            time.sleep(0.05)

    def start(self) -> None:
        """`libvirtd -d` again, inside the namespace the guests' QEMU processes live in."""
        assert self.holder is not None
        subprocess.run(["nsenter", f"--mount=/proc/{self.holder.pid}/ns/mnt", "libvirtd", "-d", "-p",
                        str(self.root / "libvirtd.pid")], check=True, timeout=DAEMON_TIMEOUT)
        self.wait_answering()

    def qemu_pid(self, uuid: str) -> int:
        return int((self.root / "run" / "qemu" / f"wuji-{uuid}.pid").read_text())

    def teardown(self) -> None:
        """Destroy every guest of this daemon, stop its daemons and the holder (only what this test started)."""
        qemu_pids = [int(p.read_text()) for p in (self.root / "run" / "qemu").glob("*.pid")
                     if p.name != "driver.pid" and p.read_text().strip().isdigit()]
        try:
            if self.holder is not None and self.holder.poll() is None and not _running(self.daemon_pid()):
                self.start()  # a test that failed while the daemon was down
            conn = self.open()
            try:
                for dom in conn.listAllDomains():
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(0)
            finally:
                conn.close()
        finally:
            for pidfile in ("libvirtd.pid", "virtlogd.pid"):
                path = self.root / pidfile
                if path.exists() and _running(pid := int(path.read_text())):
                    os.kill(pid, signal.SIGTERM)
            for pid in qemu_pids:  # only if destroying them failed
                if _running(pid):
                    os.kill(pid, signal.SIGKILL)
            if self.holder is not None:
                self.holder.kill()
                self.holder.wait(timeout=DAEMON_TIMEOUT)
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_libvirtd():
    pytest.importorskip("libvirt")
    import wuji.compute.drivers.libvirt  # noqa: F401 - registers the handler that keeps libvirt off stderr
    for tool in ("unshare", "nsenter", "libvirtd", "virtlogd"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/setup-libvirt.sh")
    missing = [v for v in (tinyguest.KERNEL_VOLUME, tinyguest.INITRD_VOLUME, *tinyguest.DISK_VOLUMES)
               if not (Path(tinyguest.POOL_DIR) / v).exists()]
    if missing:
        pytest.fail(f"the tiny guest is not built ({', '.join(missing)}): run scripts/build-guest-image.sh")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.fail("cannot make a mount namespace (unshare -m): the private libvirtd needs root with CAP_SYS_ADMIN")
    daemon = PrivateLibvirtd()
    try:
        daemon.setup()
        yield daemon
    finally:
        daemon.teardown()


def test_a_write_after_a_restart_replaces_the_idle_connection_instead_of_failing(private_libvirtd):
    """The regression of decision 0053: `isAlive()` stays true on a connection idle across a restart."""
    from wuji.compute.drivers.libvirt import LibvirtDriver

    driver = LibvirtDriver(private_libvirtd.uri)
    try:
        assert driver.get_host_stats().hypervisor == "QEMU"
        idle = driver.host.get_connection()
        private_libvirtd.stop()
        private_libvirtd.start()
        assert idle.isAlive()  # libvirt cannot know without reading from the socket
        driver.destroy("0b1f5a4e-3c2d-4e5f-8a9b-0c1d2e3f4a5b")  # a write path (lookup, pool): no NodeUnreachable
        assert driver.host.get_connection() is not idle
    finally:
        driver.close()


def order(customer, node: Node, name: str) -> Server:
    placed, _ = billing.place_order(customer=customer, region=node.region, plan=Plan.objects.get(code="s1"),
                                    image=Image.objects.get(code=tinyguest.DEMO_IMAGE_CODE), cycle="monthly",
                                    name=name, idempotency_key=name, channel="web", ip="127.0.0.1")
    return placed.server


def wait_console(driver, server: Server, done) -> list[str]:
    return tinyguest.wait_for_console(driver.serial_log_path(str(server.uuid)), done, BOOT_TIMEOUT)


def state(server: Server) -> tuple[str, str, str]:
    server.refresh_from_db()
    return server.task_state, server.vm_state, server.power_state


def test_libvirtd_restart_keeps_guests_running_and_loses_no_operation(catalogue, private_libvirtd):
    daemon = private_libvirtd
    customer = testing.make_customer("restart@example.com", balance_fen=BALANCE_FEN)
    node = demo.add_qemu_node()
    Node.objects.filter(pk=node.pk).update(uri=daemon.uri)  # the private daemon stands in for the node's
    node.refresh_from_db()
    driver = tasks.driver_for(node)
    timings: dict[str, float] = {}
    started = time.monotonic()

    a, b = order(customer, node, "restart-a"), order(customer, node, "restart-b")
    testing.run_tasks()
    paid = ledger.balances(customer)
    assert paid["cash"] < BALANCE_FEN
    for server in (a, b):
        assert state(server) == ("", VmState.ACTIVE, PowerState.RUNNING), server.last_error
    for server in (a, b):
        assert tinyguest.READY in wait_console(driver, server, lambda ls: tinyguest.READY in ls)
    timings["boot"] = time.monotonic() - started
    qemu = {s.pk: daemon.qemu_pid(str(s.uuid)) for s in (a, b)}
    cached = driver.host.get_connection()

    # 1. A soft reboot in flight inside libvirt (the ACPI button pressed, the guest not yet down) when the
    #    daemon stops; the guest powers off while no daemon runs.
    reboot, _ = operate(a, Operation.REBOOT)
    testing.run_tasks()
    assert reboot.outcomes.get().result == "succeeded"  # libvirt took the request
    mark = time.monotonic()
    daemon.stop()
    wait_console(driver, a, lambda ls: tinyguest.POWER_BUTTON in ls)
    assert all(_running(pid) for pid in qemu.values())  # QEMU outlives its daemon
    daemon.start()
    timings["restart"] = time.monotonic() - mark

    # 2. The first operation after the restart, on the connection cached before it: replaced, not failed.
    assert cached.isAlive()  # idle across the restart: libvirt cannot know it is dead without reading from it
    stop_b, _ = operate(b, Operation.STOP)
    testing.run_tasks()
    assert stop_b.outcomes.get().result == "succeeded", b.last_error
    assert state(b) == ("", VmState.STOPPED, PowerState.SHUTDOWN)
    assert driver.host.get_connection() is not cached
    assert tinyguest.POWER_BUTTON in tinyguest.console_lines(driver.serial_log_path(str(b.uuid)))

    # The restarted daemon finished A's reboot: the same QEMU process booted again from the same disk.
    lines = wait_console(driver, a, lambda ls: ls.count(tinyguest.READY) == 2)
    assert tinyguest.last_boot(lines)[:2] == [tinyguest.disk_line(tinyguest.DISK_VOLUMES[0]), tinyguest.boot_line(2)]
    assert daemon.qemu_pid(str(a.uuid)) == qemu[a.pk] and _running(qemu[a.pk])
    assert tasks.reconcile.call()["synced"] == 0  # what the platform recorded is what libvirt says
    assert state(a) == ("", VmState.ACTIVE, PowerState.RUNNING)
    timings["reboot across the restart"] = time.monotonic() - mark

    # 3. An operation run while the daemon is down fails with an outcome; nothing stays in a task state.
    mark = time.monotonic()
    daemon.stop()
    stop_a, _ = operate(a, Operation.STOP)
    testing.run_tasks()
    outcome = stop_a.outcomes.get()
    assert outcome.result == "failed" and "宿主机暂时无法连接" in outcome.detail
    assert state(a) == ("", VmState.ERROR, PowerState.NOSTATE)  # the platform cannot say: error, not a guess
    assert not nodes.check_node(node, now=clock.now()).is_reachable
    with pytest.raises(billing.PurchaseRefused, match="资源已售罄"):  # no new server on a node that is down
        order(customer, node, "restart-c")
    assert ledger.balances(customer) == paid
    assert tasks.reconcile.call() == {"synced": 0, "recovered": 0}  # cannot see the node: leaves it alone
    assert state(b) == ("", VmState.STOPPED, PowerState.SHUTDOWN)
    assert _running(qemu[a.pk])

    daemon.start()
    assert nodes.check_node(node, now=clock.now()).is_reachable
    assert tasks.reconcile.call()["synced"] == 1  # A: error -> what libvirt says (still running)
    assert state(a) == ("", VmState.ACTIVE, PowerState.RUNNING)
    again, _ = operate(a, Operation.STOP)
    testing.run_tasks()
    assert again.outcomes.get().result == "succeeded"
    assert state(a) == ("", VmState.STOPPED, PowerState.SHUTDOWN)
    timings["operation while down, recovered"] = time.monotonic() - mark

    # Nothing lost: one charge per order, no refund, every instruction with one outcome, chains verify.
    assert ledger.balances(customer) == paid
    for server in (a, b):
        assert Subscription.objects.get(server=server).charges.count() == 1
    assert not Server.objects.exclude(task_state="").exists()
    instructions = Instruction.objects.filter(result="accepted", action__regex=r"^(order\.place|server\.)")
    assert instructions.count() == 2 + 4  # two orders; reboot A, stop B, stop A (failed), stop A again
    for instruction in instructions:
        assert instruction.outcomes.count() == 1, instruction.action
    assert ledger.verify() == [] and audit.verify() == []
    print("libvirtd restart timings: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
