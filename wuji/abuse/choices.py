from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class CaseSource(ChoiceSet):
    COMPLAINT = "complaint"
    RULE = "rule"
    STAFF = "staff"

    CHOICES = (
        (COMPLAINT, _("投诉")),
        (RULE, _("规则检测")),
        (STAFF, _("工作人员")),
    )


class CaseCategory(ChoiceSet):
    """What the case is about, with the clause of the agreement it falls under."""

    ILLEGAL_CONTENT = "illegal_content"
    COPYRIGHT = "copyright"
    PHISHING = "phishing"
    SPAM = "spam"
    ATTACK_SOURCE = "attack_source"
    ATTACK_TARGET = "attack_target"
    MINING = "mining"
    OTHER = "other"

    URGENT = (PHISHING, ATTACK_SOURCE)  # the owner gets WUJI_ABUSE_URGENT_DEADLINE_HOURS to answer
    LEGAL = (ILLEGAL_CONTENT,)  # a server may be terminated without a prior suspension (decision 0034)
    CLAUSE = {ILLEGAL_CONTENT: "4.5.1.1", COPYRIGHT: "4.5.1.7", PHISHING: "4.5.1.7", SPAM: "4.5.1.7",
              ATTACK_SOURCE: "4.5.1.6", ATTACK_TARGET: "4.5.1", MINING: "4.5.1.9", OTHER: "4.5.1"}

    CHOICES = (
        (ILLEGAL_CONTENT, _("违法违规内容")),
        (COPYRIGHT, _("侵犯著作权")),
        (PHISHING, _("钓鱼欺诈")),
        (SPAM, _("垃圾邮件")),
        (ATTACK_SOURCE, _("发起网络攻击")),
        (ATTACK_TARGET, _("遭受网络攻击")),
        (MINING, _("挖矿")),
        (OTHER, _("其他")),
    )


class TargetKind(ChoiceSet):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"

    CHOICES = (
        (IP, _("IP 地址")),
        (DOMAIN, _("域名")),
        (URL, _("网址")),
    )


class CaseStatus(ChoiceSet):
    NEW = "new"
    TRIAGED = "triaged"
    WAITING = "waiting"
    ACTIONED = "actioned"
    CLOSED = "closed"
    REJECTED = "rejected"

    ACTIONABLE = (TRIAGED, WAITING, ACTIONED)
    OPEN = (NEW, TRIAGED, WAITING, ACTIONED)

    CHOICES = (
        (NEW, _("新建"), "blue"),
        (TRIAGED, _("已分拣"), "blue"),
        (WAITING, _("等待客户处理"), "orange"),
        (ACTIONED, _("已采取措施"), "red"),
        (CLOSED, _("已结案"), "green"),
        (REJECTED, _("已驳回"), "grey"),
    )


class ActionKind(ChoiceSet):
    """Staff (or rule) measures on a case, mildest first (4.5.2.2)."""

    NOTIFY = "notify"
    WARN = "warn"
    RESTRICT = "restrict"
    BLACKHOLE = "blackhole"
    SUSPEND = "suspend"
    FREEZE = "freeze"
    TERMINATE = "terminate"

    NEEDS_SERVER = (BLACKHOLE, SUSPEND, TERMINATE)

    CHOICES = (
        (NOTIFY, _("通知客户限期处理")),
        (WARN, _("警告")),
        (RESTRICT, _("限制账户功能")),
        (BLACKHOLE, _("解绑公网 IP")),
        (SUSPEND, _("暂停服务器")),
        (FREEZE, _("冻结资金")),
        (TERMINATE, _("终止服务且不退款")),
    )


class EvidenceKind(ChoiceSet):
    COMPLAINT = "complaint"
    RULE = "rule"
    REPLY = "reply"

    CHOICES = (
        (COMPLAINT, _("投诉证据")),
        (RULE, _("规则检测样本")),
        (REPLY, _("客户回复附件")),
    )
