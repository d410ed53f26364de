from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class VerificationKind(ChoiceSet):
    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"

    CHOICES = (
        (INDIVIDUAL, _("个人认证")),
        (ENTERPRISE, _("企业认证")),
    )


class VerificationStatus(ChoiceSet):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"

    CHOICES = (
        (PENDING, _("审核中"), "blue"),
        (APPROVED, _("已认证"), "green"),
        (REJECTED, _("未通过"), "red"),
        (SUPERSEDED, _("已被替代"), "grey"),
    )


class FlagStatus(ChoiceSet):
    """A staff finding of false information (2.1.3) and what became of it."""

    OPEN = "open"
    CORRECTED = "corrected"
    RESTRICTED = "restricted"
    LIFTED = "lifted"
    CANCELLED = "cancelled"  # staff cancelled the membership (terminal)

    CHOICES = (
        (OPEN, _("待更正"), "orange"),
        (CORRECTED, _("已更正"), "green"),
        (RESTRICTED, _("已限制"), "red"),
        (LIFTED, _("已解除"), "grey"),
        (CANCELLED, _("已注销会员"), "grey"),
    )


class RequiredRegions(ChoiceSet):
    """Where buying needs a verified account (setting WUJI_REAL_NAME_REQUIRED_REGIONS)."""

    MAINLAND = "mainland"
    ALL = "all"
    NONE = "none"

    CHOICES = (
        (MAINLAND, _("中国内地地域")),
        (ALL, _("全部地域")),
        (NONE, _("不要求")),
    )
