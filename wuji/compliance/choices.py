from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class FilingStatus(ChoiceSet):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    LIVE = (SUBMITTED, APPROVED)  # a domain has at most one of these; the owner may withdraw either
    UNREVIEWED = (SUBMITTED, WITHDRAWN)  # may lack a review (a filing withdrawn before staff decided)

    CHOICES = (
        (SUBMITTED, _("待审核"), "blue"),
        (APPROVED, _("已通过"), "green"),
        (REJECTED, _("已驳回"), "red"),
        (WITHDRAWN, _("已撤回"), "grey"),
    )


class DnsResult(ChoiceSet):
    """What the periodic DNS check (decision 0036) found for an approved filing's domain."""

    MATCHES = "matches"  # an A record is the filing's server's address
    OTHER_OF_OURS = "other_of_ours"  # A records, all ours, none the filing's server
    NOT_OURS = "not_ours"  # A records, none of them ours
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"  # the name exists but has no A record
    TIMEOUT = "timeout"
    ERROR = "error"  # SERVFAIL, refused, unreachable resolver…
    NO_SERVER_ADDRESS = "no_server_address"  # the server holds no public IP: nothing to compare with

    FLAGGED = (OTHER_OF_OURS, NOT_OURS, NXDOMAIN, NO_ANSWER)  # the domain does not reach its filed server
    INCONCLUSIVE = (TIMEOUT, ERROR, NO_SERVER_ADDRESS)  # keeps the previous flag state

    CHOICES = (
        (MATCHES, _("解析正确"), "green"),
        (OTHER_OF_OURS, _("解析到本平台的其他地址"), "red"),
        (NOT_OURS, _("未解析到本平台"), "red"),
        (NXDOMAIN, _("域名不存在"), "red"),
        (NO_ANSWER, _("没有 A 记录"), "red"),
        (TIMEOUT, _("查询超时"), "grey"),
        (ERROR, _("查询失败"), "grey"),
        (NO_SERVER_ADDRESS, _("服务器没有公网 IP"), "grey"),
    )


class LegalBasis(ChoiceSet):
    """The only grounds on which a user's data may leave the platform (service agreement 5.2.1–5.2.8).
    Values are the clause numbers, so the register reads like the agreement."""

    AGREEMENT = "5.2.1"
    LAW = "5.2.2"
    AUTHORITY = "5.2.3"
    CONSENT = "5.2.4"
    REPORT_OR_LITIGATION = "5.2.5"
    PREVENT_CRIME = "5.2.6"
    SERVICE_PROVISION = "5.2.7"
    SECURITY_CERTIFICATION = "5.2.8"

    CHOICES = (
        (AGREEMENT, _("5.2.1 依据服务条款或双方其他协议、合同、在线条款可以提供")),
        (LAW, _("5.2.2 依据法律法规的规定应当提供")),
        (AUTHORITY, _("5.2.3 行政、司法等职权部门要求提供")),
        (CONSENT, _("5.2.4 用户同意向第三方提供")),
        (REPORT_OR_LITIGATION, _("5.2.5 为解决举报事件、提起诉讼而提交")),
        (PREVENT_CRIME, _("5.2.6 为防止严重违法或涉嫌犯罪行为采取必要合理行动所必须提交")),
        (SERVICE_PROVISION, _("5.2.7 为向用户提供产品、服务、信息而向第三方提供")),
        (SECURITY_CERTIFICATION, _("5.2.8 为完善信息管理、提升信息安全保障进行证明、检测、认证和鉴定")),
    )


class DataCategory(ChoiceSet):
    """What a disclosure may contain; each category has one exporter in `disclosure_export`."""

    PROFILE = "profile"
    CONTACT = "contact"
    IDENTITY = "identity"
    LOGINS = "logins"
    INSTRUCTIONS = "instructions"
    ORDERS = "orders"
    LEDGER = "ledger"
    SERVERS = "servers"

    CHOICES = (
        (PROFILE, _("账户资料")),
        (CONTACT, _("联系方式")),
        (IDENTITY, _("实名认证信息")),
        (LOGINS, _("登录记录")),
        (INSTRUCTIONS, _("操作指令记录")),
        (ORDERS, _("订单")),
        (LEDGER, _("账务流水")),
        (SERVERS, _("服务器及 IP 地址历史")),
    )


class DisclosureStatus(ChoiceSet):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"

    CHOICES = (
        (REQUESTED, _("待审批"), "blue"),
        (APPROVED, _("已批准并生成"), "green"),
        (REJECTED, _("已驳回"), "red"),
    )
