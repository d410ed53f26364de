from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class FreezeReason(ChoiceSet):
    """The grounds of clause 5.4 on which staff may freeze a customer's funds, with the clause each cites."""

    LAW = "law"
    AUTHORITY = "authority"
    ILLEGAL_USE = "illegal_use"
    ABNORMAL_ACTIVITY = "abnormal_activity"
    MISTAKEN_TRANSFER = "mistaken_transfer"
    COMPLAINT = "complaint"
    OTHER_RISK = "other_risk"

    CLAUSE = {LAW: "5.4.1", AUTHORITY: "5.4.2", ILLEGAL_USE: "5.4.3", ABNORMAL_ACTIVITY: "5.4.4",
              MISTAKEN_TRANSFER: "5.4.5", COMPLAINT: "5.4.6", OTHER_RISK: "5.4"}

    CHOICES = (
        (LAW, _("国家法律、法规、政策、法律文书的规定（5.4.1）")),
        (AUTHORITY, _("国家有权机关要求进行冻结（5.4.2）")),
        (ILLEGAL_USE, _("使用服务的行为涉嫌违反国家法律法规及行政规定（5.4.3）")),
        (ABNORMAL_ACTIVITY, _("账户操作、资金进出等存在异常（5.4.4）")),
        (MISTAKEN_TRANSFER, _("他人向您账户错误汇入资金，可能存在不当得利（5.4.5）")),
        (COMPLAINT, _("您遭到他人投诉，且对方已经提供了一定证据（5.4.6）")),
        (OTHER_RISK, _("根据合理判断认为可能产生风险的其他情况（5.4）")),
    )


class FreezeOutcome(ChoiceSet):
    """What happens to frozen funds when no appeal arrives in time or the appeal is rejected (5.4.7)."""

    LONG_TERM = "long_term"
    REFUND = "refund"

    CHOICES = (
        (LONG_TERM, _("长期冻结")),
        (REFUND, _("原路退回充值来源账户")),
    )


class FreezeState(ChoiceSet):
    FROZEN = "frozen"  # frozen, the appeal window is running
    APPEALED = "appealed"  # an appeal awaits review
    LONG_TERM = "long_term"  # the appeal failed or none came: frozen for the long term (staff may still lift it)
    REFUNDED = "refunded"  # returned to the original payment sources (原路退回)
    LIFTED = "lifted"  # unfrozen: the appeal succeeded, or staff lifted the freeze

    OPEN = (FROZEN, APPEALED, LONG_TERM)

    CHOICES = (
        (FROZEN, _("已冻结，可申诉"), "red"),
        (APPEALED, _("申诉审核中"), "orange"),
        (LONG_TERM, _("长期冻结"), "red"),
        (REFUNDED, _("已原路退回"), "blue"),
        (LIFTED, _("已解冻"), "green"),
    )


class AppealStatus(ChoiceSet):
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"

    CHOICES = (
        (PENDING, _("审核中"), "orange"),
        (UPHELD, _("申诉通过"), "green"),
        (REJECTED, _("申诉未通过"), "red"),
    )


class FreezeFileKind(ChoiceSet):
    EVIDENCE = "evidence"  # staff evidence: never shown to the customer
    APPEAL = "appeal"  # the customer's appeal attachments

    CHOICES = (
        (EVIDENCE, _("冻结依据材料")),
        (APPEAL, _("申诉材料")),
    )
