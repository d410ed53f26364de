from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class FilingStatus(ChoiceSet):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"

    LIVE = (SUBMITTED, APPROVED)  # a domain has at most one of these

    CHOICES = (
        (SUBMITTED, _("待审核"), "blue"),
        (APPROVED, _("已通过"), "green"),
        (REJECTED, _("已驳回"), "red"),
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
