"""Faults, nothing lost (issue 8): a real `wuji worker` paying out a withdrawal is SIGKILLed in the middle of
a leg's refund call; a restarted worker runs the periodic retry job, and every leg is paid exactly once.

Same method and PostgreSQL-only reason as wuji/compute/tests/test_fault_recovery.py (decision 0049): the
worker is a separate process on the test database. The channels are one loopback HTTP server (127.0.0.1) that
speaks the two refund APIs the platform's real gateway clients call (Alipay `alipay.trade.refund` and
`alipay.trade.fastpay.refund.query`, RSA2; WeChat Pay APIv3 `/v3/refund/domestic/refunds`, signed
Authorization), reached through the endpoints production configures (WUJI_ALIPAY_GATEWAY,
WUJI_WECHAT_API_BASE). Like the real channels it checks our request signature, refuses to refund more than
was paid, and deduplicates on the refund number: a second request with the same out_request_no /
out_refund_no answers about the first and moves no money. It records every payout (money that left).

The worker dies while one leg's request is held at the gateway, either after the gateway paid it (its answer
never reaches the platform) or before the gateway processed it (the request is dropped). The legs after it
were never sent. Three legs, newest top-up first (LIFO): one done before the kill, the held one, one unsent.
"""

import json
import signal
import threading
import time

import pytest
from django_tasks_db.models import DBTaskResult

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.compute.tests.test_worker_recovery import kill, shared_database_url, start_worker
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.choices import PlatformAccount
from wuji.ledger.models import Transaction
from wuji.payments import tasks, withdrawals
from wuji.payments.choices import RefundLegStatus, WithdrawalStatus
from wuji.payments.models import Refund, Withdrawal

from .conftest import (
    ALIPAY_APP_ID,
    ALIPAY_SELLER_ID,
    APIV3_KEY,
    WECHAT_APPID,
    WECHAT_MCHID,
    WECHAT_PUBLIC_KEY_ID,
    WECHAT_SERIAL,
    alipay_request_unsigned,
    alipay_response,
    private_pem,
    public_pem,
    rsa2_verify,
    wechat_response,
    yuan,
)
from .helpers import paid_topup, staff

WORKER_WITHIN_SECONDS = 120  # Django start-up of a second process on a loaded two-core machine
REFUNDS_PATH = "/v3/refund/domestic/refunds"


class Dropped(Exception):
    """Raised in the gateway's request thread: the connection closes without an answer."""


class PayoutGateway:
    """Alipay and WeChat Pay refunds on one loopback server. `hold(refund_no, before=…)` makes the request for
    that refund number wait until `release` is set: after the payout was made and recorded here (the answer
    then goes to a dead socket), or before anything was processed (the request is then dropped)."""

    def __init__(self, loopback, keys, trades: dict[str, int]):
        self.keys, self.trades = keys, trades  # out_trade_no -> amount paid (fen)
        self.lock = threading.Lock()
        self.refunds: dict[str, dict] = {}  # refund_no -> {"trade", "amount", "id", "looked_at"}
        self.payouts: list[tuple[str, str, int]] = []  # (channel, refund_no, fen): money that left
        self.calls: list[tuple[str, str, str]] = []  # (channel, "refund" | "query", refund_no), processed
        self.refused: list[str] = []  # requests whose signature did not verify
        self.held, self.held_before = "", False
        self.received, self.release = threading.Event(), threading.Event()
        self.server = loopback(self.handle)

    def hold(self, refund_no: str, *, before: bool) -> None:
        self.held, self.held_before = refund_no, before

    def _wait_if_held(self, refund_no: str, *, before: bool) -> None:
        if refund_no == self.held and before == self.held_before and not self.release.is_set():
            self.received.set()
            assert self.release.wait(timeout=300)
            if before:
                raise Dropped(refund_no)

    def _pay(self, channel: str, trade: str, refund_no: str, amount: int) -> dict | None:
        """A refund request: the first one for `refund_no` pays (if the trade has that much left), a repeat
        pays nothing. Returns the refund, or None when refused for the amount."""
        with self.lock:
            self.calls.append((channel, "refund", refund_no))
            if refund_no in self.refunds:
                self.refunds[refund_no]["repeats"] += 1
                return self.refunds[refund_no]
            refunded = sum(r["amount"] for r in self.refunds.values() if r["trade"] == trade)
            if trade not in self.trades or refunded + amount > self.trades[trade]:
                return None
            refund = {"trade": trade, "amount": amount, "id": f"{channel[:2].upper()}{len(self.payouts) + 1:012d}",
                      "repeats": 0, "refunded": refunded + amount}
            self.refunds[refund_no] = refund
            self.payouts.append((channel, refund_no, amount))
            return refund

    def _look(self, channel: str, refund_no: str) -> dict | None:
        with self.lock:
            self.calls.append((channel, "query", refund_no))
            return self.refunds.get(refund_no)

    def handle(self, request):
        if request["path"] == "/gateway.do":
            return self.alipay(request["query"])
        if request["path"].startswith(REFUNDS_PATH):
            return self.wechat(request)
        return 404, {}, ""

    # --- Alipay (RSA2 over the sorted parameters; answers signed with "Alipay"'s key) -------------------------

    def alipay(self, params: dict):
        method = params.get("method", "")
        if not rsa2_verify(self.keys["app"], alipay_request_unsigned(params), params.get("sign", "")) \
                or params.get("app_id") != ALIPAY_APP_ID:
            self.refused.append(method)
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"error_response": {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}})
        biz = json.loads(params["biz_content"])
        refund_no = biz["out_request_no"]
        if method == "alipay.trade.refund":
            self._wait_if_held(refund_no, before=True)
            amount = round(float(biz["refund_amount"]) * 100)
            refund = self._pay("alipay", biz["out_trade_no"], refund_no, amount)
            if refund is None:
                answer = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                          "sub_msg": "退款金额超限"}
            else:  # fund_change "N": a repeated out_request_no, no money moved this time (Alipay's answer)
                answer = {"code": "10000", "msg": "Success", "trade_no": refund["id"], "out_trade_no": refund["trade"],
                          "buyer_logon_id": "159****5620", "refund_fee": yuan(refund["refunded"]),
                          "fund_change": "N" if refund["repeats"] else "Y"}
            self._wait_if_held(refund_no, before=False)
        elif method == "alipay.trade.fastpay.refund.query":
            refund = self._look("alipay", refund_no)
            answer = {"code": "10000", "msg": "Success", "out_trade_no": biz["out_trade_no"],
                      "out_request_no": refund_no}
            if refund is not None:
                answer.update(trade_no=refund["id"], refund_amount=yuan(refund["amount"]),
                              total_amount=yuan(self.trades[refund["trade"]]), refund_status="REFUND_SUCCESS")
        else:
            return 404, {}, ""
        return 200, {"Content-Type": "application/json;charset=utf-8"}, alipay_response(
            self.keys["alipay"], method, answer)

    # --- WeChat Pay APIv3 (signed Authorization header; answers signed with the "platform" key) -----------

    def wechat(self, request):
        auth = request["headers"].get("Authorization", "")
        fields = dict(part.split("=", 1) for part in auth.removeprefix("WECHATPAY2-SHA256-RSA2048 ").split(",")
                      if "=" in part)
        fields = {k: v.strip('"') for k, v in fields.items()}
        message = (f"{request['method']}\n{request['raw_path']}\n{fields.get('timestamp')}\n"
                   f"{fields.get('nonce_str')}\n{request['body']}\n")
        if fields.get("mchid") != WECHAT_MCHID or fields.get("serial_no") != WECHAT_SERIAL \
                or not rsa2_verify(self.keys["merchant"], message, fields.get("signature", "")):
            self.refused.append(request["path"])
            return wechat_response(self.keys["platform"], 401, {"code": "SIGN_ERROR", "message": "签名错误"})
        if request["method"] == "POST" and request["path"] == REFUNDS_PATH:
            body = json.loads(request["body"])
            refund_no = body["out_refund_no"]
            self._wait_if_held(refund_no, before=True)
            if body["amount"].get("total") != self.trades.get(body["out_trade_no"]):
                return wechat_response(self.keys["platform"], 400, {"code": "PARAM_ERROR", "message": "订单金额不符"})
            refund = self._pay("wechat", body["out_trade_no"], refund_no, body["amount"]["refund"])
            if refund is None:
                return wechat_response(self.keys["platform"], 403, {"code": "NOT_ENOUGH", "message": "退款金额超限"})
            self._wait_if_held(refund_no, before=False)
        elif request["method"] == "GET":
            refund_no = request["path"].rsplit("/", 1)[1]
            refund = self._look("wechat", refund_no)
            if refund is None:
                return wechat_response(self.keys["platform"], 404, {"code": "RESOURCE_NOT_EXISTS",
                                                                     "message": "退款单不存在"})
        else:
            return 404, {}, ""
        # A new refund is PROCESSING in its first answer; any later look (query or repeat) finds it done.
        status = "SUCCESS" if refund.get("looked") else "PROCESSING"
        refund["looked"] = True
        return wechat_response(self.keys["platform"], 200, {
            "refund_id": refund["id"], "out_refund_no": refund_no, "out_trade_no": refund["trade"],
            "channel": "ORIGINAL", "status": status,
            "amount": {"refund": refund["amount"], "total": self.trades[refund["trade"]], "currency": "CNY"}})

    # --- what the test reads ---------------------------------------------------------------------------

    def refund_requests(self, refund_no: str) -> int:
        return sum(1 for _channel, kind, no in self.calls if kind == "refund" and no == refund_no)


def configure_channels(monkeypatch, settings, keys, tmp_path, url: str) -> None:
    """Alipay and WeChat Pay configured the production way (environment), for the worker and for this process."""
    key_file = tmp_path / "alipay_app_private.pem"
    key_file.write_text(private_pem(keys["app"]))
    values = {
        "WUJI_ALIPAY_APP_ID": ALIPAY_APP_ID, "WUJI_ALIPAY_PRIVATE_KEY": str(key_file),
        "WUJI_ALIPAY_PUBLIC_KEY": public_pem(keys["alipay"]), "WUJI_ALIPAY_SELLER_ID": ALIPAY_SELLER_ID,
        "WUJI_ALIPAY_GATEWAY": url + "/gateway.do",
        "WUJI_WECHAT_MCHID": WECHAT_MCHID, "WUJI_WECHAT_APPID": WECHAT_APPID,
        "WUJI_WECHAT_CERT_SERIAL_NO": WECHAT_SERIAL, "WUJI_WECHAT_APIV3_KEY": APIV3_KEY,
        "WUJI_WECHAT_PRIVATE_KEY": private_pem(keys["merchant"]),
        "WUJI_WECHAT_PUBLIC_KEY": public_pem(keys["platform"]),
        "WUJI_WECHAT_PUBLIC_KEY_ID": WECHAT_PUBLIC_KEY_ID, "WUJI_WECHAT_CERT_DIR": "", "WUJI_WECHAT_API_BASE": url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)  # the worker's environment (start_worker copies os.environ)
        setattr(settings, name, value)


def wait_for(condition, proc, log, what: str) -> None:
    deadline = time.monotonic() + WORKER_WITHIN_SECONDS
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {WORKER_WITHIN_SECONDS} s:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.1)


def run_retry_job(proc, log) -> None:
    """What the scheduler does every 10 minutes: enqueue the retry job; the (restarted) worker runs it."""
    result = tasks.retry_pending_refunds.enqueue()
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status in ("SUCCESSFUL", "FAILED"), proc, log,
             "the retry job")
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL", row.traceback


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("held_channel", "before"), [("alipay", False), ("wechat", False), ("alipay", True)],
                         ids=["alipay-paid-answer-lost", "wechat-paid-answer-lost", "alipay-request-never-processed"])
def test_withdrawal_killed_mid_payout_pays_each_leg_exactly_once(held_channel, before, tmp_path, keys, loopback,
                                                                 catalogue, monkeypatch, settings):
    other = "wechat" if held_channel == "alipay" else "alipay"
    customer = testing.make_customer(f"kill-payout-{held_channel}-{int(before)}@example.com")
    oldest, middle, newest = (paid_topup(customer, 50_00, other), paid_topup(customer, 40_00, held_channel),
                              paid_topup(customer, 30_00, other))
    gateway = PayoutGateway(loopback, keys, {t.out_trade_no: t.amount_fen for t in (oldest, middle, newest)})
    configure_channels(monkeypatch, settings, keys, tmp_path, gateway.server.url)

    withdrawal = withdrawals.request_withdrawal(customer=customer, amount_fen=100_00, idempotency_key="kill-payout",
                                                factor="totp", channel="web", ip="127.0.0.1")
    done, held, unsent = legs = list(Refund.objects.filter(withdrawal=withdrawal).order_by("id"))
    assert [(leg.topup_id, leg.amount_fen) for leg in legs] == [(newest.pk, 30_00), (middle.pk, 40_00),
                                                               (oldest.pk, 30_00)]  # newest top-up first
    gateway.hold(held.refund_no, before=before)
    withdrawals.approve_withdrawal(withdrawal, staff=staff("finance-kill@wuji.test", "finance"))

    proc, _marker, log = start_worker(tmp_path, shared_database_url(), hold_at="none")
    try:
        wait_for(gateway.received.is_set, proc, log, "the held refund request")
        assert DBTaskResult.objects.get(task_path="wuji.payments.tasks.pay_out_withdrawal").status == "RUNNING"
    finally:
        kill(proc)
        gateway.release.set()
    assert proc.returncode == -signal.SIGKILL

    # The fault: the first leg's answer was recorded, the held one's was not, the last was never sent.
    done.refresh_from_db(), held.refresh_from_db(), unsent.refresh_from_db()
    assert done.status == RefundLegStatus.SUCCEEDED or done.accepted
    assert (held.status, held.accepted, held.attempts) == (RefundLegStatus.PENDING, False, 0)
    assert (unsent.status, unsent.attempts, gateway.refund_requests(unsent.refund_no)) == (
        RefundLegStatus.PENDING, 0, 0)
    paid_before_recovery = [(no, fen) for _ch, no, fen in gateway.payouts]
    assert paid_before_recovery == [(done.refund_no, 30_00)] + ([] if before else [(held.refund_no, 40_00)])
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == WithdrawalStatus.PROCESSING

    # Recovery: a new worker; the periodic retry job until nothing is pending (resend, then query).
    (tmp_path / "restarted").mkdir()
    proc, _marker, log = start_worker(tmp_path / "restarted", shared_database_url(), hold_at="none")
    try:
        passes = 0
        while Refund.objects.filter(withdrawal=withdrawal, status=RefundLegStatus.PENDING).exists():
            passes += 1
            assert passes <= 3, list(Refund.objects.filter(withdrawal=withdrawal).values())
            run_retry_job(proc, log)
    finally:
        kill(proc)

    # Money left the channels exactly once per leg, each under its own refund number.
    assert sorted((no, fen) for _ch, no, fen in gateway.payouts) == sorted(
        (leg.refund_no, leg.amount_fen) for leg in legs)
    assert [ch for ch, no, _fen in gateway.payouts if no == held.refund_no] == [held_channel]
    assert gateway.refund_requests(unsent.refund_no) == 1  # never sent before the fault: sent exactly once
    assert gateway.refund_requests(held.refund_no) == (1 if before else 2)  # the repeat was deduplicated
    assert gateway.refused == []  # every request carried our valid signature

    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.COMPLETED
    for leg in legs:
        leg.refresh_from_db()
        assert leg.status == RefundLegStatus.SUCCEEDED and leg.ledger_transaction_id
        assert Transaction.objects.filter(idempotency_key=f"refund-paid:{leg.refund_no}").count() == 1
        assert not Transaction.objects.filter(idempotency_key=f"refund-failed:{leg.refund_no}").exists()
    assert ledger.balances(customer) == {"cash": 20_00, "gift": 0, "frozen": 0}  # 120 paid in, 100 out, no fee
    assert ledger.platform_balance(PlatformAccount.PAYABLE_REFUNDS) == 0  # nothing owed, nothing paid twice
    assert ledger.platform_balance(PlatformAccount.clearing("alipay")) + ledger.platform_balance(
        PlatformAccount.clearing("wechat")) == -20_00  # 120 received at the channels, 100 refunded through them
    assert customer.notices.filter(event="payments.withdrawal_finished").count() == 1
    request = Instruction.objects.get(action="withdrawal.request", refers_to__isnull=True)
    assert [(o.result, o.detail) for o in request.outcomes.all()] == [("succeeded", "")]
    assert ledger.verify() == []
    assert audit.verify() == []


@pytest.mark.django_db
def test_a_withdrawal_instruction_gets_its_outcome_when_it_settles_or_is_rejected(scripted, catalogue):
    """Regression (found writing the test above): a withdrawal request, carried out later by tasks, kept no
    outcome; "no instruction without its outcome" (issue 8) needs one whether it completes, fails or is refused."""
    from wuji.payments.gateways import RefundStatus

    from .helpers import result

    one, _two = scripted
    finance = staff("finance-outcome@wuji.test", "finance")
    customer = testing.make_customer("outcome@example.com")
    paid_topup(customer, 100_00, "scripted")

    def withdraw(key):
        return withdrawals.request_withdrawal(customer=customer, amount_fen=20_00, idempotency_key=key,
                                              factor="totp", channel="web", ip="127.0.0.1")

    def outcome_of(withdrawal):
        instruction = Instruction.objects.get(action="withdrawal.request", target_id=str(withdrawal.pk),
                                              refers_to__isnull=True)
        return [(o.result, o.detail) for o in instruction.outcomes.all()]

    paid, failed, rejected = withdraw("paid"), withdraw("failed"), withdraw("rejected")
    assert outcome_of(paid) == []  # accepted, not carried out yet
    withdrawals.approve_withdrawal(paid, staff=finance)
    withdrawals.pay_out(paid.pk)
    one.script.append(result(RefundStatus.FAILED, message="ACQ.TRADE_HAS_CLOSE"))
    withdrawals.approve_withdrawal(failed, staff=finance)
    withdrawals.pay_out(failed.pk)
    withdrawals.reject_withdrawal(rejected, staff=finance, reason="资料不符")
    withdrawals.retry_pending_refunds()  # settled withdrawals get no second outcome

    assert outcome_of(paid) == [("succeeded", "")]
    assert outcome_of(failed)[0][0] == "failed" and "paid 0 fen" in outcome_of(failed)[0][1]
    assert outcome_of(rejected) == [("failed", "资料不符")]
    assert audit.verify() == []
