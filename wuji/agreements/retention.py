"""How long personal data is kept, per category, and the purge for cancelled (注销) accounts (PIPL art. 19, 47).

`RETENTION` is the table `docs/retention.md` explains. Only the categories with a `purge` function are deleted
by `purge_cancelled_accounts()` (one periodic job, daily); the period runs from the account's cancellation
(its last `account.cancel` instruction). Anything under a legal retention period (ledger, instruction log,
fapiao and contracts, IP allocation history, acceptance records) is kept and never touched here. Every purge
is itself recorded in the instruction log, with counts only.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from wuji.audit import services as audit
from wuji.core import clock

CANCELLED_ACTION = "account.cancel"


@dataclasses.dataclass(frozen=True)
class Category:
    code: str
    name: str  # Chinese, as in docs/retention.md
    keep: str  # how long, in words
    basis: str
    after_cancellation: dt.timedelta | None = None  # purged this long after cancellation; None: not by this job
    purge: Callable | None = None  # purge(user) -> rows deleted


def _purge_notices(user) -> int:
    """In-site notices (站内信) and their delivery log (addresses, results)."""
    from wuji.notifications import services as notifications
    from wuji.notifications.models import Delivery, DeliveryAttempt

    notices = notifications.inbox_of(user)
    attempts, _detail = DeliveryAttempt.objects.filter(delivery__notice__in=notices).delete()
    deliveries, _detail = Delivery.objects.filter(notice__in=notices).delete()
    deleted, _detail = notices.delete()
    return attempts + deliveries + deleted


def _purge_wechat_binding(user) -> int:
    """The WeChat openid notices went to: nothing is sent to a cancelled account."""
    from wuji.notifications.models import WechatBinding

    deleted, _detail = WechatBinding.objects.filter(user=user).delete()
    return deleted


def _purge_identity_documents(user) -> int:
    """ID photos and business licences; the verification record (name, masked and hashed number) stays."""
    from wuji.identity.models import Verification

    count = 0
    for verification in Verification.objects.filter(user=user).exclude(document=""):
        name, storage = verification.document.name, verification.document.storage
        Verification.objects.filter(pk=verification.pk).update(document="", document_type="")
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
        count += 1
    return count


RETENTION: tuple[Category, ...] = (
    Category("login_records", "登录记录", "登录后 180 日（可配置更长）",
             "《网络安全法》第二十一条：网络日志留存不少于六个月；由 accounts.purge_login_records 每日清理"),
    Category("notices", "站内信及通知投递记录", "注销后 3 年",
             "通知送达的证明；《民法典》第一百八十八条诉讼时效三年", dt.timedelta(days=3 * 365), _purge_notices),
    Category("wechat_binding", "微信通知绑定（OpenID）", "注销后 1 日",
             "注销后不再发送通知，不再必要（《个人信息保护法》第四十七条）", dt.timedelta(days=1),
             _purge_wechat_binding),
    Category("identity_documents", "实名认证证件照片、营业执照", "注销后 180 日",
             "核验完成后不再必要（《个人信息保护法》第十九条、第四十七条）；留存期供监管查询",
             dt.timedelta(days=180), _purge_identity_documents),
    Category("identity_records", "实名认证记录（姓名、加密及脱敏证件号码）", "保留",
             "用户真实身份信息登记（《反电信网络诈骗法》《互联网安全保护技术措施规定》）；期限待法务确定后再清理"),
    Category("acceptances", "协议同意记录", "保留", "合同成立的证明（协议第 1.1 条）"),
    Category("instructions", "指令记录（审计链）", "保留", "协议第 3.1 条；防篡改哈希链不可删除"),
    Category("ledger", "账务流水、余额", "保留", "《会计档案管理办法》：会计账簿保管 30 年"),
    Category("finance", "发票、合同", "保留", "《会计档案管理办法》《发票管理办法》"),
    Category("ip_history", "公网 IP 分配历史", "保留", "《网络安全法》第二十一条；溯源需要"),
)


def cancelled_accounts(cutoff: dt.datetime):
    """Accounts that are cancelled and whose last cancellation was before `cutoff`."""
    from wuji.audit.models import Instruction

    cancelled = (Instruction.objects.filter(action=CANCELLED_ACTION, owner__isnull=False).values("owner_id")
                 .annotate(last=Max("created_at")).filter(last__lt=cutoff).values("owner_id"))
    return get_user_model().objects.filter(is_active=False, pk__in=cancelled).order_by("pk")


def purge_cancelled_accounts(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete, for every cancelled account, each purgeable category past its period. Idempotent."""
    now = now or clock.now()
    totals = {}
    for category in RETENTION:
        if category.purge is None:
            continue
        totals[category.code] = 0
        for user in cancelled_accounts(now - category.after_cancellation).iterator():
            with transaction.atomic():
                deleted = category.purge(user)
                if deleted:
                    audit.record(actor=None, owner=user, channel="system", action="account.retention_purge",
                                 target=user, params={"category": category.code, "deleted": deleted})
            totals[category.code] += deleted
    return totals
