"""The scale-out test (issue 8, decision 0051): the platform as production runs it, on one machine's loopback.

    .venv/bin/python scripts/scale_test.py          # `make scale-test`; exit status 0 only if every check passed

A fresh PostgreSQL database (dropped and created, then migrated), Redis as the shared cache (WUJI_CACHE_URL),
2 gunicorn web servers (deploy/gunicorn.conf.py, two ports), 2 `wuji worker` and 2 `wuji scheduler` processes,
each in its own process group. The compute node is libvirt's test driver served by the machine's libvirtd
(`test+unix:///default`): unlike `test:///default`, which lives inside one process, every worker sees the same
guests, as workers share a real node. Every periodic job gets a short slot (WUJI_SCHEDULER_SLOT_SECONDS).

A bounded load: N customers (threads), each doing the same fixed list of things over HTTP with the SDK's signed
client, alternating between the two web servers: a sandbox top-up, paid by half of them in the portal (signed in
on one server, "pay" pressed on both at once) and for the others by the gateway's signed notice delivered to both
servers at once; two orders, the first sent to both servers at once with one Idempotency-Key; stop, start,
reboot and hard reboot of both servers; a stop sent to both servers at once; a renewal sent three times (same
key on both servers, then a new key for the same period).

Afterwards, with the schedulers stopped and the workers drained, it checks: every periodic job was enqueued
exactly once in every slot while the schedulers ran (no gap, no extra enqueue) and each run was executed by one
worker once; no task failed or ran twice; every accepted instruction has exactly one outcome (refused ones
none) and each accepted operation succeeded; each order and renewal charged once, each top-up credited once,
each balance what the customer's own successful actions imply; each replayed request answered from its first
run; no server left in a task state, each in the power state the node reports; `wuji ledger verify` and `wuji
audit verify` pass. All processes are stopped (their process groups) whatever happens.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not whichever one the venv was installed from

TOPUP_FEN = 50_000
REGION, PLAN, IMAGE, CYCLE = "cn-ganzhou", "s1", "debian-12", "monthly"
OPERATIONS = ("stop", "start", "reboot", "reboot_hard")
SERVERS_PER_CUSTOMER = 2
# libvirt's test driver gives each storage pool 100 GiB and counts a disk's full size: four 20 GiB servers (plan
# s1) and the image volumes fit in one pool, so the run spreads its servers over several nodes (a pool each).
PLAN_DISK_GIB, SERVERS_PER_NODE = 20, 4
ASYNC_ACTIONS = re.compile(r"^(order\.place|server\.\w+)$")  # accepted now, carried out by a worker later


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "SCALE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wuji_scale"),
        help="PostgreSQL database to DROP and create (default $SCALE_DATABASE_URL or …/wuji_scale)")
    parser.add_argument("--cache-url", default=os.environ.get("SCALE_CACHE_URL", "redis://127.0.0.1:6379/5"),
                        help="Redis database shared by the web servers (default $SCALE_CACHE_URL)")
    parser.add_argument("--node-uri", default="test+unix:///default",
                        help="a libvirt test driver served by libvirtd, shared by the workers")
    parser.add_argument("--customers", type=int, default=12)
    parser.add_argument("--slot-seconds", type=int, default=10)
    parser.add_argument("--min-slots", type=int, default=4, help="complete scheduler slots to observe at least")
    parser.add_argument("--timeout", type=float, default=420, help="seconds for the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the database and logs afterwards")
    return parser.parse_args()


# --- processes ---------------------------------------------------------------------------------------------


class Fleet:
    """The processes this run started, each the leader of its own process group; `stop` ends the groups."""

    def __init__(self, logs: Path, env: dict):
        self.logs, self.env, self.procs, self.stopped = logs, env, {}, set()

    def start(self, name: str, argv: list[str], **extra_env) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **extra_env}, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if name not in self.stopped and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-3000:]}")

    def stop(self, names=None, timeout: float = 20) -> None:
        chosen = [(n, p) for n, p in self.procs.items() if names is None or n in names]
        self.stopped.update(name for name, _proc in chosen)
        for _name, proc in chosen:
            if proc.poll() is None:
                with _suppress_lookup():
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _name, proc in chosen:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with _suppress_lookup():  # the leader may be gone while its children are not
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _suppress_lookup:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, ProcessLookupError)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, predicate, timeout: float, fleet: Fleet | None = None, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if fleet is not None:
            fleet.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def http_ready(port: int) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/v1/", headers={"Host": f"127.0.0.1:{port}"})
        return conn.getresponse().status < 500
    except OSError:
        return False


# --- the database --------------------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing database name {name!r}")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    with psycopg.connect(urllib.parse.urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {parts.path.lstrip('/')} WITH (FORCE)")


class NodeKeeper:
    """A connection to the shared test node, kept busy for the whole run: libvirtd's test driver forgets its
    guests when the last connection closes, and libvirtd drops a connection that does not answer its keepalive
    probes (an idle client without an event loop). So the node lives until this run ends, whatever the workers do."""

    def __init__(self, uri: str):
        import libvirt

        try:
            self.conn = libvirt.open(uri)
        except libvirt.libvirtError as exc:
            raise SystemExit(f"cannot reach the test node {uri} ({exc}): libvirtd must run (`make system`)") from exc
        self.stopping = threading.Event()
        self.pools = []
        self.thread = threading.Thread(target=self._ping, daemon=True)
        self.thread.start()

    def add_pool(self, name: str) -> None:
        """A storage pool of its own for one node: the test driver gives every pool 100 GiB, whatever it is told."""
        self.pools.append(self.conn.storagePoolCreateXML(
            f"<pool type='dir'><name>{name}</name><target><path>/{name}</path></target></pool>", 0))

    def _ping(self) -> None:
        while not self.stopping.wait(2):
            self.conn.getLibVersion()

    def close(self) -> None:
        """Remove this run's pools (in case another client keeps the node alive) and let the node go."""
        import libvirt

        self.stopping.set()
        self.thread.join(timeout=10)
        for pool in self.pools:
            try:
                for volume in pool.listAllVolumes():
                    volume.delete(0)
                pool.destroy()
            except libvirt.libvirtError:  # cleanup only
                pass
        self.conn.close()


def set_up_platform(customers: int, node_uri: str, keeper: NodeKeeper) -> list[dict]:
    """Migrate, load the demo catalogue, put compute nodes on the shared test hypervisor (one storage pool each,
    enough for every server the load buys), register the images, and create the customers with API keys."""
    from django.core.management import call_command

    from wuji.api import services as api
    from wuji.compute import hypervisors
    from wuji.compute.models import Node
    from wuji.core import demo, testing

    call_command("migrate", interactive=False, verbosity=0)
    region = demo.load_catalogue(node_uri=node_uri, storage_pool="default-pool")["regions"][REGION]
    Node.objects.filter(name="demo-node-1").update(is_enabled=False)
    servers = customers * SERVERS_PER_CUSTOMER
    for n in range(1, -(-servers // SERVERS_PER_NODE) + 2):  # one spare node
        pool = f"scale-{os.getpid()}-{n}"
        keeper.add_pool(pool)
        Node.objects.create(name=f"scale-node-{n}", region=region, uri=node_uri, storage_pool=pool, vcpus=64,
                            memory_mib=262144, disk_gib=SERVERS_PER_NODE * PLAN_DISK_GIB)
    hypervisors.prepare_demo_hypervisors(log=lambda line: None)
    people = []
    for i in range(customers):
        user = testing.make_customer(f"scale-{i}@scale.invalid", verified=True)
        key, secret = api.create_key(owner=user, name="scale", ip="127.0.0.1", scopes=["servers", "billing"])
        people.append({"index": i, "user_id": user.pk, "key_id": key.key_id, "secret": secret, "email": user.email,
                       "password": testing.PASSWORD})
    return people


# --- the load -----------------------------------------------------------------------------------------------


class Tally:
    """Every HTTP attempt, by web server and status (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_server = collections.Counter()
        self.statuses = collections.Counter()
        self.server_errors: list[str] = []

    def add(self, port: int, method: str, path: str, status: int) -> None:
        with self.lock:
            self.by_server[port] += 1
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {method} {path} on :{port}")


def counting_client(endpoint: str, key_id: str, secret: str, tally: Tally, port: int):
    from wuji_sdk import Client

    class Counting(Client):
        def _send(self, method, path, query, headers, body):
            response = super()._send(method, path, query, headers, body)
            tally.add(port, method, path, response.status)
            return response

    return Counting(endpoint, key_id, secret, timeout=60, retries=4, backoff=0.3)


class Customer:
    """One customer's fixed list of actions; `record` keeps what the platform answered, for the checks."""

    def __init__(self, person: dict, ports: list[int], tally: Tally, gateway_secret: str):
        self.person, self.ports, self.tally, self.gateway_secret = person, ports, tally, gateway_secret
        self.clients = [counting_client(f"http://127.0.0.1:{port}", person["key_id"], person["secret"], tally, port)
                        for port in ports]
        self.turn = person["index"]  # customers start on alternate servers
        self.record = {"user_id": person["user_id"], "orders": {}, "order_keys": [], "renewal": None,
                       "topup_fen": 0, "accepted_seqs": [], "refused_ops": collections.Counter(), "replays": 0,
                       "actions": 0}

    def api(self):
        self.turn += 1
        return self.clients[self.turn % 2]

    def both(self, call):
        """`call(client)` on both web servers at once; returns [(result or None, error or None)] per server."""
        from wuji_sdk.errors import ApiError

        def one(client):
            try:
                return call(client), None
            except ApiError as exc:
                return None, exc

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            return list(pool.map(one, self.clients))

    # -- the actions

    def run(self) -> dict:
        self.top_up()
        servers = [self.order_twice_at_once()["server"]]
        servers += [self.order(key=f"scale-{uuid.uuid4()}")["server"] for _ in range(SERVERS_PER_CUSTOMER - 1)]
        for server_id in servers:
            self.wait_settled(server_id, expect="active")
        for operation in OPERATIONS:
            for server_id in servers:
                self.operate(server_id, operation)
            for server_id in servers:
                self.wait_settled(server_id)
        self.conflicting_stops(servers[1])
        self.renew_three_times(servers[0])
        self.record["balance"] = self.api().balance()
        self.record["servers"] = servers
        return self.record

    def top_up(self) -> None:
        """Half the customers pay in the portal (signed in on one web server, paying on both at once), half
        through the gateway's notice (delivered to both at once); either way, one credit."""
        topup = self.api().create_topup(amount_fen=TOPUP_FEN, channel="sandbox")
        self.record["actions"] += 1
        if self.person["index"] % 2:
            self.pay_in_portal(topup["out_trade_no"])
        else:
            notice = self.gateway_notice(topup["out_trade_no"], topup["amount_fen"])
            answers = self.deliver_at_once(notice)
            assert answers == [(200, b"success")] * 2, f"gateway notice answers {answers}"
        paid = self.api().get_topup(topup["out_trade_no"])
        assert paid["status"] == "paid", paid
        self.record["topup_fen"] += topup["amount_fen"]

    def pay_in_portal(self, out_trade_no: str) -> None:
        """Sign in to the portal on one web server, open the sandbox payment page on the other (the session and
        the CSRF token are the platform's, not one server's), and press "pay" on both servers at once."""
        import http.cookiejar
        import urllib.request

        jar = http.cookiejar.CookieJar()  # cookies belong to the host, whatever the port: both servers get them
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        first, second = self.ports[self.person["index"] % 2], self.ports[(self.person["index"] + 1) % 2]

        def fetch(port: int, path: str, form: dict | None = None):
            data = urllib.parse.urlencode(form).encode() if form is not None else None
            with opener.open(urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data), timeout=60) as r:
                self.tally.add(port, "POST" if form else "GET", path, r.status)
                return r.status, urllib.parse.urlsplit(r.url).path, r.read().decode("utf-8", errors="replace")

        def csrf(page: str) -> str:
            return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

        _status, _path, page = fetch(first, "/accounts/login/")
        _status, landed, _page = fetch(first, "/accounts/login/", {
            "login": self.person["email"], "password": self.person["password"], "csrfmiddlewaretoken": csrf(page)})
        assert landed != "/accounts/login/", "the portal sign-in failed"
        pay = f"/wallet/topup/{out_trade_no}/pay/"
        _status, _path, page = fetch(second, pay)
        token = csrf(page)
        barrier = threading.Barrier(2)

        def press(port: int):
            barrier.wait()
            return fetch(port, pay, {"csrfmiddlewaretoken": token})[:2]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(press, self.ports))
        assert all(status == 200 and path == "/wallet/" for status, path in answers), answers
        self.record["actions"] += 3

    def gateway_notice(self, out_trade_no: str, amount_fen: int) -> dict:
        """What the sandbox gateway sends when the payer pays: its notice, signed with the shared secret."""
        import hashlib
        import hmac

        params = {"out_trade_no": out_trade_no, "trade_no": f"SBX{uuid.uuid4().hex[:16].upper()}",
                  "amount_fen": str(amount_fen), "status": "SUCCESS"}
        canonical = "&".join(f"{k}={params[k]}" for k in sorted(params)).encode()
        params["sign"] = hmac.new(self.gateway_secret.encode(), canonical, hashlib.sha256).hexdigest()
        return params

    def deliver_at_once(self, notice: dict) -> list[tuple[int, bytes]]:
        """The gateway delivers its notice twice, to both web servers at the same moment (channels repeat)."""
        import http.client

        body = urllib.parse.urlencode(notice)
        barrier = threading.Barrier(2)

        def post(port: int):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            barrier.wait()
            conn.request("POST", "/payments/notify/sandbox/", body=body, headers={
                "Host": f"127.0.0.1:{port}", "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            self.tally.add(port, "POST", "/payments/notify/sandbox/", response.status)
            return response.status, response.read().strip()

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            return list(pool.map(post, self.ports))

    def order(self, *, key: str, client=None) -> dict:
        order = (client or self.api()).create_order(idempotency_key=key, region=REGION, plan=PLAN, image=IMAGE,
                                                    cycle=CYCLE, name=f"scale-{self.person['index']}")
        self.record["actions"] += 1
        self.record["orders"][order["id"]] = order["amount_fen"]
        self.record["order_keys"].append(key)
        return order

    def order_twice_at_once(self) -> dict:
        """One purchase sent to both servers at once with one Idempotency-Key: one order, whoever answers."""
        key = f"scale-{uuid.uuid4()}"
        answers = self.both(lambda client: client.create_order(
            idempotency_key=key, region=REGION, plan=PLAN, image=IMAGE, cycle=CYCLE,
            name=f"scale-{self.person['index']}"))
        self.record["actions"] += 2
        orders = [result for result, _error in answers if result is not None]
        for _result, error in answers:
            assert error is None or error.code == "idempotency_key_in_progress", repr(error)
        if not orders:  # both met the other's claim: a retry with the key gets the stored answer
            orders = [self.order(key=key)]
        replay = self.api().request("POST", "/api/v1/orders/", idempotency_key=key, body={
            "region": REGION, "plan": PLAN, "image": IMAGE, "cycle": CYCLE, "name": f"scale-{self.person['index']}"})
        self.record["actions"] += 1
        assert replay.headers.get("idempotent-replayed") == "true", replay.headers
        self.record["replays"] += 1
        ids = {order["id"] for order in orders} | {replay.data["id"]}
        assert len(ids) == 1, f"one key, several orders: {ids}"
        self.record["orders"][orders[0]["id"]] = orders[0]["amount_fen"]
        if key not in self.record["order_keys"]:
            self.record["order_keys"].append(key)
        return orders[0]

    def operate(self, server_id: int, operation: str) -> None:
        client = self.api()
        if operation == "reboot_hard":
            accepted = client.reboot_server(server_id, hard=True)
        else:
            accepted = client.call(f"servers_{operation}_create", id=server_id)
        self.record["actions"] += 1
        self.record["accepted_seqs"].append(accepted["instruction_seq"])

    def conflicting_stops(self, server_id: int) -> None:
        """A stop sent to both servers at once (two keys): one is carried out, the other refused or a no-op."""
        answers = self.both(lambda client: client.stop_server(server_id))
        self.record["actions"] += 2
        accepted = [result for result, _error in answers if result is not None]
        assert accepted, f"neither stop was accepted: {answers}"
        for result in accepted:
            self.record["accepted_seqs"].append(result["instruction_seq"])
        for _result, error in answers:
            if error is not None:
                assert error.status == 409, repr(error)
                self.record["refused_ops"][error.code] += 1
        self.wait_settled(server_id, expect="stopped")

    def renew_three_times(self, server_id: int) -> None:
        """A renewal sent to both servers at once with one key, then again with a new key for the same period:
        one renewal, one charge."""
        sub = next(s for s in self.api().paginate("subscriptions_list") if s["server"] == server_id)
        key = f"scale-{uuid.uuid4()}"
        body = {"cycles": 1, "expected_period_end": sub["period_end"]}
        path = f"/api/v1/subscriptions/{sub['id']}/renew/"
        answers = self.both(lambda client: client.request("POST", path, idempotency_key=key, body=body).data)
        again = self.api().request("POST", path, idempotency_key=f"scale-{uuid.uuid4()}", body=body).data
        self.record["actions"] += 3
        charges = [result for result, _error in answers if result is not None] + [again]
        for _result, error in answers:
            assert error is None or error.code == "idempotency_key_in_progress", repr(error)
        assert len({charge["id"] for charge in charges}) == 1, f"one period, several renewals: {charges}"
        self.record["renewal"] = (sub["id"], again["id"], again["amount_fen"])

    def wait_settled(self, server_id: int, expect: str | None = None) -> dict:
        def settled():
            server = self.api().get_server(server_id)
            return server if not server["task_state"] and server["vm_state"] != "building" else None

        server = wait_for(f"server {server_id} to finish its operation", settled, timeout=180, every=0.5)
        if expect is not None:
            assert server["vm_state"] == expect, f"server {server_id}: {server['vm_state']} ({server['last_error']})"
        return server


# --- the checks ---------------------------------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.failures: list[str] = []
        self.passed = 0

    def check(self, ok: bool, what: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)


def check_scheduler(checks: Checks, slot_seconds: int, min_slots: int, scheduler_logs: dict[str, str]) -> dict:
    from django_tasks_db.models import DBTaskResult

    from wuji.core import scheduler
    from wuji.core.models import ScheduledRun

    jobs = {job.name: job for job in scheduler.registered_jobs()}
    runs = list(ScheduledRun.objects.all())
    slots = sorted({run.slot for run in runs})
    step = dt.timedelta(seconds=slot_seconds)
    checks.check(all(b - a == step for a, b in zip(slots, slots[1:], strict=False)),
                 f"scheduler: a slot was skipped: {[s.isoformat() for s in slots]}")
    complete = slots[1:-1]  # the first and the last may be partial (schedulers starting, stopping)
    checks.check(len(complete) >= min_slots, f"scheduler: only {len(complete)} complete slots (< {min_slots})")
    per_slot = collections.defaultdict(collections.Counter)
    for run in runs:
        per_slot[run.slot][run.job] += 1
    for slot in slots:
        counted = per_slot[slot]
        checks.check(max(counted.values()) == 1, f"scheduler: a job enqueued twice in slot {slot}: {counted}")
        if slot in complete:
            missing = sorted(set(jobs) - set(counted))
            checks.check(not missing, f"scheduler: slot {slot.isoformat()} misses {missing}")
    results = {str(r.id): r for r in DBTaskResult.objects.filter(id__in=[run.task_result_id for run in runs])}
    for run in runs:
        result = results.get(run.task_result_id)
        checks.check(result is not None and result.status == "SUCCESSFUL" and len(result.worker_ids) == 1,
                     f"scheduler: {run} did not run exactly once successfully "
                     f"({result and (result.status, result.worker_ids)})")
    periodic_paths = {job.task.module_path for job in jobs.values()}
    enqueued = set(DBTaskResult.objects.filter(task_path__in=periodic_paths).values_list("id", flat=True))
    extra = {str(i) for i in enqueued} - {run.task_result_id for run in runs}
    checks.check(not extra, f"scheduler: {len(extra)} periodic task(s) enqueued without a slot")
    by_scheduler = {name: len(re.findall(r"wuji\.core\.scheduler: enqueued ", text))
                    for name, text in scheduler_logs.items()}
    checks.check(sum(by_scheduler.values()) == len(runs),
                 f"scheduler: the schedulers logged {by_scheduler} enqueues, the database holds {len(runs)}")
    return {"jobs": len(jobs), "slots": len(slots), "complete": len(complete), "runs": len(runs),
            "by_scheduler": by_scheduler}


def check_tasks(checks: Checks) -> dict:
    from django_tasks_db.models import DBTaskResult

    left = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
    checks.check(left == 0, f"tasks: {left} not finished after the drain")
    for result in DBTaskResult.objects.filter(status="FAILED"):
        checks.check(False, f"tasks: {result.task_path} failed: {result.traceback[-1500:]}")
    twice = [r.task_path for r in DBTaskResult.objects.exclude(status="READY") if len(r.worker_ids) != 1]
    checks.check(not twice, f"tasks: claimed by more than one worker (or none): {twice}")
    by_worker = collections.Counter(ids[0] for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) if ids)
    return {"tasks": DBTaskResult.objects.count(), "by_worker": dict(by_worker)}


def check_instructions(checks: Checks, records: list[dict]) -> dict:
    from django.db.models import Count

    from wuji.audit.models import Instruction

    counted = Instruction.objects.filter(refers_to__isnull=True).annotate(n=Count("outcomes"))
    accepted_async = 0
    for instruction in counted:
        if instruction.result == "accepted" and ASYNC_ACTIONS.match(instruction.action):
            accepted_async += 1
            checks.check(instruction.n == 1, f"instructions: #{instruction.seq} {instruction.action} has "
                                             f"{instruction.n} outcomes (expected 1)")
        else:
            checks.check(instruction.n == 0, f"instructions: #{instruction.seq} {instruction.action} "
                                             f"{instruction.result} has {instruction.n} outcomes (expected 0)")
    seqs = [seq for record in records for seq in record["accepted_seqs"]]
    outcomes = dict(Instruction.objects.filter(refers_to__seq__in=seqs).values_list("refers_to__seq", "result"))
    failed = {seq: outcomes.get(seq) for seq in seqs if outcomes.get(seq) != "succeeded"}
    checks.check(not failed, f"instructions: accepted operations without success: {failed}")
    orders = Instruction.objects.filter(action="order.place", result="accepted")
    order_failed = list(orders.exclude(outcomes__result="succeeded").values_list("seq", flat=True))
    checks.check(not order_failed, f"instructions: orders not provisioned: {order_failed}")
    return {"instructions": Instruction.objects.count(), "accepted_async": accepted_async,
            "operations": len(seqs)}


def check_money(checks: Checks, records: list[dict]) -> dict:
    from django.contrib.auth import get_user_model

    from wuji.api.models import IdempotencyRecord
    from wuji.billing.models import Order, SubscriptionCharge
    from wuji.ledger import services as ledger
    from wuji.ledger.models import Transaction
    from wuji.payments.models import TopUp

    users = get_user_model().objects.in_bulk([record["user_id"] for record in records])
    charged_total = 0
    for record in records:
        user = users[record["user_id"]]
        label = user.email
        orders = list(Order.objects.filter(customer=user))
        checks.check(sorted(o.idempotency_key for o in orders) == sorted(record["order_keys"]),
                     f"money: {label} has orders {[o.idempotency_key for o in orders]}, made {record['order_keys']}")
        checks.check({o.pk: o.amount_fen for o in orders} == record["orders"], f"money: {label} order amounts")
        for order in orders:
            charges = Transaction.objects.filter(customer=user, kind="charge",
                                                 idempotency_key=f"order:{user.pk}:{order.idempotency_key}")
            checks.check(charges.count() == 1 and order.ledger_transaction_id == charges.get().pk,
                         f"money: order {order.pk} charged {charges.count()} times")
        sub_id, charge_id, renewal_fen = record["renewal"]
        renewals = SubscriptionCharge.objects.filter(subscription_id=sub_id, kind="renewal")
        checks.check(list(renewals.values_list("pk", flat=True)) == [charge_id],
                     f"money: {label} renewals {list(renewals.values_list('pk', flat=True))}, answered {charge_id}")
        all_charges = Transaction.objects.filter(customer=user, kind="charge").count()
        checks.check(all_charges == len(orders) + 1, f"money: {label} has {all_charges} charges, expected "
                                                     f"{len(orders) + 1}")
        topups = list(TopUp.objects.filter(customer=user))
        credits = Transaction.objects.filter(customer=user, kind="topup").count()
        checks.check(len(topups) == 1 and topups[0].status == "paid" and credits == 1,
                     f"money: {label} top-ups {[(t.out_trade_no, t.status) for t in topups]}, {credits} credits")
        spent = sum(record["orders"].values()) + renewal_fen
        charged_total += spent
        expected = record["topup_fen"] - spent
        balances = ledger.balances(user)
        checks.check(balances["cash"] == expected and record["balance"]["cash_fen"] == expected,
                     f"money: {label} cash {balances['cash']} (API said {record['balance']['cash_fen']}), "
                     f"expected {expected}")
        open_claims = IdempotencyRecord.objects.filter(owner=user).exclude(state=IdempotencyRecord.State.DONE)
        checks.check(not open_claims.exists(), f"money: {label} has idempotency claims never completed")
    return {"charged_fen": charged_total, "orders": sum(len(r["orders"]) for r in records)}


def check_servers(checks: Checks) -> dict:
    from wuji.compute.drivers import InstanceNotFound
    from wuji.compute.models import Server
    from wuji.compute.tasks import driver_for

    servers = list(Server.objects.select_related("node"))
    stuck = [(s.pk, s.task_state) for s in servers if s.task_state]
    checks.check(not stuck, f"servers: left in a task state: {stuck}")
    for server in servers:
        checks.check(server.vm_state in ("active", "stopped"),
                     f"servers: {server.pk} is {server.vm_state} ({server.last_error})")
        try:
            node_says = driver_for(server.node).get_info(str(server.uuid)).power_state
        except InstanceNotFound:
            node_says = "no such guest"
        checks.check(node_says == server.power_state,
                     f"servers: {server.pk} recorded {server.power_state}, the node says {node_says}")
    return {"servers": len(servers), "states": dict(collections.Counter(s.vm_state for s in servers))}


def run_command(checks: Checks, env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "wuji.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    checks.check(done.returncode == 0, f"`wuji {' '.join(args)}` exited {done.returncode}: "
                                       f"{(done.stdout + done.stderr)[-1500:]}")


def destroy_guests() -> None:
    """Leave nothing on the shared test node (best effort)."""
    from wuji.compute.models import Server
    from wuji.compute.tasks import driver_for

    for server in Server.objects.select_related("node"):
        try:
            driver_for(server.node).destroy(str(server.uuid))
        except Exception:  # cleanup only
            pass


# --- the run ------------------------------------------------------------------------------------------------


def main() -> int:
    args = arguments()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="wuji-scale-"))
    env = {**os.environ, "DATABASE_URL": args.database_url, "WUJI_CACHE_URL": args.cache_url,
           "WUJI_SANDBOX_PAYMENTS": "1", "WUJI_SCHEDULER_SLOT_SECONDS": str(args.slot_seconds),
           "WUJI_VAR_DIR": str(workdir / "var"), "WUJI_ALLOWED_HOSTS": "127.0.0.1",
           "WUJI_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "WUJI_LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "wuji.settings", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "WUJI_SANDBOX_SECRET": f"scale-{uuid.uuid4().hex}"}
    env.pop("WUJI_DEBUG", None)
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    (workdir / "logs").mkdir()
    fleet = Fleet(workdir / "logs", env)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # run the finally blocks
    ok = False
    keeper = None
    try:
        import redis

        try:
            redis.Redis.from_url(args.cache_url).ping()
        except redis.RedisError as exc:
            raise SystemExit(f"cannot reach the shared cache {args.cache_url} ({exc}): Redis must run") from exc
        keeper = NodeKeeper(args.node_uri)
        recreate_database(args.database_url)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        people = set_up_platform(args.customers, args.node_uri, keeper)
        connection.close()
        setup_seconds = time.monotonic() - started

        ports = [free_port(), free_port()]
        wuji = [sys.executable, "-m", "wuji.cli"]
        for i, port in enumerate(ports, 1):
            fleet.start(f"web{i}", [sys.executable, "-m", "gunicorn", "wuji.wsgi:application", "-c",
                                    str(ROOT / "deploy" / "gunicorn.conf.py")],
                        WUJI_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
        for i in (1, 2):
            fleet.start(f"worker{i}", [*wuji, "worker", "--interval", "0.2"])
        for i in (1, 2):
            fleet.start(f"scheduler{i}", [*wuji, "scheduler", "--poll", "1"], WUJI_LOG_LEVEL="INFO")
        for port in ports:
            wait_for(f"the web server on :{port}", lambda port=port: http_ready(port), timeout=120, fleet=fleet)
        fleet.check_alive()

        tally = Tally()
        customers = [Customer(person, ports, tally, settings.WUJI_SANDBOX_SECRET) for person in people]
        load_started = time.monotonic()
        errors = []
        with concurrent.futures.ThreadPoolExecutor(len(customers)) as pool:
            futures = {pool.submit(customer.run): customer for customer in customers}
            for future in concurrent.futures.as_completed(futures, timeout=args.timeout):
                try:
                    future.result()
                except Exception:
                    errors.append(f"customer {futures[future].person['index']}: {traceback.format_exc(limit=4)}")
        load_seconds = time.monotonic() - load_started
        fleet.check_alive()

        # Let enough slots pass, stop the schedulers, let the workers finish what was enqueued.
        from django_tasks_db.models import DBTaskResult

        from wuji.core.models import ScheduledRun

        def enough_slots():
            slots = ScheduledRun.objects.values_list("slot", flat=True).distinct().count()
            return slots >= args.min_slots + 2

        wait_for(f"{args.min_slots} complete scheduler slots", enough_slots,
                 timeout=(args.min_slots + 3) * args.slot_seconds + 60, fleet=fleet, every=1)
        fleet.stop(["scheduler1", "scheduler2"])
        wait_for("the workers to drain the queue",
                 lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists(),
                 timeout=180, fleet=fleet, every=0.5)
        fleet.stop(["worker1", "worker2"])

        checks = Checks()
        for error in errors:
            checks.check(False, error)
        records = [c.record for c in customers if "balance" in c.record]
        checks.check(len(records) == len(customers), f"load: {len(customers) - len(records)} customers unfinished")
        checks.check(not tally.server_errors, f"load: server errors {tally.server_errors[:10]}")
        sched = check_scheduler(checks, args.slot_seconds, args.min_slots,
                                {n: fleet.log(n) for n in ("scheduler1", "scheduler2")})
        tasks = check_tasks(checks)
        instructions = check_instructions(checks, records)
        money = check_money(checks, records)
        servers = check_servers(checks)
        run_command(checks, env, "ledger", "verify")
        run_command(checks, env, "audit", "verify")
        connection.close()

        actions = sum(r["actions"] for r in records)
        print(f"scale-out test: PostgreSQL {settings.DATABASES['default']['NAME']}, cache {args.cache_url}, "
              f"node {args.node_uri}; 2 web servers × 2 gunicorn workers, 2 task workers, 2 schedulers")
        print(f"  load: {len(customers)} customers, {actions} actions, {sum(tally.by_server.values())} requests "
              f"in {load_seconds:.1f} s; per web server: "
              + ", ".join(f":{port} {tally.by_server[port]}" for port in ports)
              + f"; statuses {dict(sorted(tally.statuses.items()))}")
        print(f"  orders {money['orders']}, charged ¥{money['charged_fen'] / 100:.2f}, operations accepted "
              f"{instructions['operations']}, refused as conflicting "
              f"{dict(sum((r['refused_ops'] for r in records), collections.Counter()))}, idempotent replays "
              f"{sum(r['replays'] for r in records)}; servers {servers['states']}")
        print(f"  scheduler: {sched['jobs']} jobs × {sched['slots']} slots of {args.slot_seconds} s "
              f"({sched['complete']} complete) = {sched['runs']} runs; enqueued by {sched['by_scheduler']}")
        print(f"  tasks: {tasks['tasks']} run, by worker {tasks['by_worker']}; instructions "
              f"{instructions['instructions']} ({instructions['accepted_async']} asynchronous, each one outcome)")
        print(f"  time: set-up {setup_seconds:.1f} s, total {time.monotonic() - started:.1f} s; "
              f"{checks.passed} checks passed, {len(checks.failures)} failed")
        for failure in checks.failures:
            print(f"FAILED {failure}")
        ok = not checks.failures
    except BaseException:
        traceback.print_exc()
        raise
    finally:
        fleet.stop()
        signal.signal(signal.SIGTERM, previous)
        try:
            destroy_guests()
            from django.db import connections

            connections.close_all()
        except Exception:  # cleanup only: the database may not exist
            pass
        if keeper is not None:
            keeper.close()
        if not ok:
            print(f"logs and database kept: {workdir}/logs, {args.database_url}")
            for name in fleet.procs:
                tail = fleet.log(name)[-1500:]
                if tail.strip():
                    print(f"--- {name} (tail)\n{tail}")
        elif not args.keep:
            drop_database(args.database_url)
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
