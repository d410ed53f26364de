"""A world where one customer owns one of everything the API serves by id, built through the services as
the product builds it: the owner-boundary matrix (test_owner_matrix) and the schemathesis run
(test_schemathesis) both use it.

`build_world(owner, bystander)` returns the objects by name (World.objects) and the URL keyword values
for each of them (World.ids). The bystander only receives the owner's server push: it must be a third
account, never the one whose boundary is under test.
"""

import dataclasses

from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wuji.abuse import services as abuse
from wuji.abuse.choices import ActionKind
from wuji.api import services as api_keys
from wuji.audit import services as audit
from wuji.billing import freezes, payg
from wuji.billing import services as billing
from wuji.billing.models import Subscription
from wuji.compliance import services as compliance
from wuji.compute import push as pushes
from wuji.compute import snapshots
from wuji.core import clock, testing, uploads
from wuji.finance import services as finance
from wuji.network import services as network
from wuji.network.tests.test_network import make_pool
from wuji.notifications import services as notifications
from wuji.payments import services as payments
from wuji.payments import withdrawals
from wuji.payments.tests.helpers import paid_topup, staff
from wuji.support import services as support

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% a stand-in for the tax system's fapiao file\n%%EOF\n"


@dataclasses.dataclass
class World:
    owner: object
    receiver: object  # of the owner's server push
    objects: dict = dataclasses.field(default_factory=dict)

    def pk(self, name: str):
        return self.objects[name].pk


def world_settings(settings, tmp_path) -> None:
    """What the world's channels need: the bank-transfer account, private files in a temporary folder."""
    settings.WUJI_BANK_ACCOUNT_NUMBER = "3602 0000 0910 0123 456"
    settings.WUJI_BANK_NAME = "中国工商银行赣州分行营业部"
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"
    settings.WUJI_SANDBOX_PAYMENTS = True
    cache.clear()  # the public complaint form's per-IP rate limit counts in the cache


def signed_in(user, agent: str = "world-browser") -> Client:
    """A browser session of `user` (a UserSession row, as the portal makes it)."""
    browser = Client(HTTP_USER_AGENT=agent)
    response = browser.post(reverse("account_login"), {"login": user.email, "password": testing.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    browser.get(reverse("portal:dashboard"))
    return browser


def _server(owner, catalogue, key: str, name: str):
    order, _password = billing.place_order(customer=owner, region=catalogue["region"], plan=catalogue["plan"],
                                           image=catalogue["image"], cycle="monthly", name=name, idempotency_key=key,
                                           channel="web", ip="127.0.0.1")
    testing.run_tasks()
    order.refresh_from_db()
    order.server.refresh_from_db()
    return order


def build_world(owner, bystander, catalogue, tag: str = "") -> World:
    """One of everything for `owner`. A second call with another `tag` gives the owner a second set (new keys,
    numbers and domains; the address pool is made once): the query-count baselines compare one set with two."""
    world = World(owner=owner, receiver=bystander)
    o = world.objects
    officer = staff(f"world-officer{tag}@wuji.test", "compliance", "finance")
    if not tag:
        make_pool(catalogue["region"], cidr="203.0.113.0/28", gateway="203.0.113.1")
    paid_topup(owner, 500_00)

    order = _server(owner, catalogue, f"world-order{tag}", "web-1")
    o["order"], o["server"] = order, order.server
    o["subscription"] = Subscription.objects.get(server=order.server)
    o["snapshot"] = snapshots.create_snapshot(server=order.server, name="before-upgrade",
                                              idempotency_key=f"world-snap{tag}", actor=owner, channel="web",
                                              ip="127.0.0.1")
    testing.run_tasks()
    o["snapshot"].refresh_from_db()
    pushed = _server(owner, catalogue, f"world-order-2{tag}", "pushed").server
    o["push"] = pushes.offer(server=pushed, receiver_login=bystander.email, actor=owner, channel="web",
                             ip="127.0.0.1", idempotency_key=f"world-push{tag}")
    meter, _password = payg.place_payg_order(customer=owner, region=catalogue["region"], plan=catalogue["plan"],
                                             image=catalogue["image"], name="payg", idempotency_key=f"world-payg{tag}",
                                             channel="web", ip="127.0.0.1")
    testing.run_tasks()
    o["payg_server"] = meter.server

    o["topup"] = payments.create_topup(customer=owner, amount_fen=100_00, channel="sandbox", ip="127.0.0.1")
    o["bank_transfer"] = payments.declare_bank_transfer(
        customer=owner, amount_fen=1000_00, payer_name="赣州某某科技有限公司", payer_bank="中国建设银行",
        transfer_date=clock.local_now().date(), reference="武极云充值", receipt=None, ip="198.51.100.7")
    o["bank_account"] = withdrawals.add_bank_account(customer=owner, holder="测试用户", bank="工商银行",
                                                     branch="赣州分行", number=f"62220202001122334{45 + len(tag):02d}",
                                                     channel="web", ip=None)
    o["withdrawal"] = withdrawals.request_withdrawal(customer=owner, amount_fen=10_00, idempotency_key=f"world-wd{tag}",
                                                     factor="totp", channel="web", ip="127.0.0.1")
    o["freeze"] = freezes.freeze_funds(customer=owner, staff=officer, reason="abnormal_activity", outcome="long_term",
                                       amount_fen=1_00, note="资金进出异常，请说明来源。", evidence="规则 R12",
                                       files=[freezes.Upload("evidence.png", PNG)])

    o["fapiao"] = finance.issue_fapiao(
        finance.apply_for_fapiao(owner, amount_fen=10_00, fapiao_type="normal", idempotency_key=f"world-fp{tag}",
                                 ip="127.0.0.1"),
        officer, number=f"260000000000000000{len(tag) + 1:02d}", pdf=PDF, ip="10.0.0.1")
    o["contract"] = finance.approve_contract(finance.apply_for_contract(owner, order=order), officer)

    o["ticket"] = support.open_ticket(customer=owner, category="servers", subject="无法连接", body="SSH 超时。",
                                      files=[uploads.Upload("shot.png", PNG)], channel="web")
    o["ticket_attachment"] = o["ticket"].messages.get().attachments.get()
    o["notice"] = notifications.inbox_of(owner).first()
    o["icp_filing"] = compliance.submit_filing(owner=owner, domain=f"shop{tag}.example.cn",
                                               icp_number="京ICP备12345678号-1", server=order.server, actor=owner,
                                               channel="web", ip="127.0.0.1")
    case = abuse.submit_complaint(category="phishing", target=network.address_of(order.server),
                                  description="该地址托管了仿冒银行的登录页面。",
                                  reporter_email="cert@example.org", ip="198.51.100.9", channel="web")
    abuse.triage(case, staff=officer)
    abuse.apply_action(case, kind=ActionKind.NOTIFY, staff=officer, reason="请删除钓鱼页面。")
    case.refresh_from_db()
    o["abuse_case"] = case
    abuse.reply(case, owner=owner, text="已删除该页面。", files=[abuse.Upload("fixed.pdf", PDF)], channel="web")
    o["abuse_reply_file"] = case.evidence.get(name="fixed.pdf")
    o["api_key"], _secret = api_keys.create_key(owner=owner, name="world", ip="127.0.0.1")

    signed_in(owner)
    o["session"] = UserSession.objects.filter(user=owner).latest("pk")
    o["instruction"] = audit.instructions_for(owner).first()
    assert o["notice"] is not None and o["instruction"] is not None
    return world


def third_party(email: str = "carol@example.com"):
    """The receiver of the owner's server push: someone other than the two accounts under test."""
    existing = get_user_model().objects.filter(email=email).first()
    return existing or testing.make_customer(email)

