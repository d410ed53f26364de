from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class FapiaoType(ChoiceSet):
    """增值税普通发票 for everyone; 增值税专用发票 only for enterprises confirmed as 一般纳税人."""

    NORMAL = "normal"
    SPECIAL = "special"

    CHOICES = (
        (NORMAL, _("增值税普通发票（普票）"), "grey"),
        (SPECIAL, _("增值税专用发票（专票）"), "blue"),
    )


class FapiaoMedium(ChoiceSet):
    ELECTRONIC = "electronic"
    PAPER = "paper"

    CHOICES = (
        (ELECTRONIC, _("数电票（发送至电子邮箱）")),
        (PAPER, _("纸质发票（邮寄）")),
    )


class FapiaoStatus(ChoiceSet):
    PENDING = "pending"
    ISSUED = "issued"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    REVERSED = "reversed"

    OPEN = (PENDING,)
    RESERVING = (PENDING, ISSUED)  # statuses whose amount is taken from the invoiceable amount

    CHOICES = (
        (PENDING, _("待开具"), "orange"),
        (ISSUED, _("已开具"), "green"),
        (REJECTED, _("已驳回"), "red"),
        (CANCELLED, _("已取消"), "grey"),
        (REVERSED, _("已红冲"), "grey"),
    )


class ContractStatus(ChoiceSet):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    CHOICES = (
        (PENDING, _("待审核"), "orange"),
        (APPROVED, _("已生成"), "green"),
        (REJECTED, _("已驳回"), "red"),
    )


class TitleKind(ChoiceSet):
    """Tencent's four profiles, of which we issue three (organisations that are not enterprises verify as
    enterprises here)."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"

    CHOICES = (
        (INDIVIDUAL, _("个人")),
        (ENTERPRISE, _("企业")),
    )
