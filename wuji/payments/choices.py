from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class PaymentChannel(ChoiceSet):
    SANDBOX = "sandbox"
    ALIPAY = "alipay"
    WECHAT = "wechat"
    BANK = "bank"

    CHOICES = (
        (SANDBOX, _("演示支付网关（沙箱，不会真实扣款）")),
        (ALIPAY, _("支付宝")),
        (WECHAT, _("微信支付")),
        (BANK, _("对公转账")),
    )


class TopUpStatus(ChoiceSet):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"

    CHOICES = (
        (PENDING, _("待支付"), "orange"),
        (PAID, _("已到账"), "green"),
        (EXPIRED, _("已关闭（超时未支付）"), "grey"),
    )


class BankTransferStatus(ChoiceSet):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"

    CHOICES = (
        (PENDING, _("待财务确认"), "orange"),
        (CONFIRMED, _("已确认到账"), "green"),
        (REJECTED, _("已驳回"), "red"),
    )


class NoticeOutcome(ChoiceSet):
    CREDITED = "credited"  # verified, and this notice credited the top-up
    DUPLICATE = "duplicate"  # verified, the top-up was already credited: acknowledged, nothing credited
    IGNORED = "ignored"  # verified but not a payment (e.g. a refund or a not-yet-paid state): acknowledged
    REFUSED = "refused"  # not trusted or not matching an order: refused, nothing credited

    CHOICES = (
        (CREDITED, _("已入账"), "green"),
        (DUPLICATE, _("重复通知（未重复入账）"), "blue"),
        (IGNORED, _("已忽略（非支付成功通知）"), "grey"),
        (REFUSED, _("已拒绝"), "red"),
    )


class WithdrawalKind(ChoiceSet):
    """Money leaving a customer's account: a withdrawal of cash they asked for (提现), or frozen funds
    returned to their source after a failed appeal (5.4.7). Both are paid out by the same refund legs."""

    WITHDRAWAL = "withdrawal"
    FROZEN_REFUND = "frozen_refund"

    CHOICES = (
        (WITHDRAWAL, _("提现")),
        (FROZEN_REFUND, _("冻结资金原路退回")),
    )


class WithdrawalStatus(ChoiceSet):
    AWAITING_APPROVAL = "awaiting_approval"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    OPEN = (AWAITING_APPROVAL, PROCESSING)

    CHOICES = (
        (AWAITING_APPROVAL, _("待审核"), "orange"),
        (PROCESSING, _("退款处理中"), "blue"),
        (COMPLETED, _("已完成"), "green"),
        (PARTIAL, _("部分完成，失败部分已退回余额"), "orange"),
        (FAILED, _("退款失败，已退回余额"), "red"),
        (REJECTED, _("已驳回"), "red"),
        (CANCELLED, _("已取消"), "grey"),
    )


class RefundLegStatus(ChoiceSet):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    CHOICES = (
        (PENDING, _("处理中"), "blue"),
        (SUCCEEDED, _("已退回"), "green"),
        (FAILED, _("失败，已退回余额"), "red"),
        (CANCELLED, _("已取消"), "grey"),
    )
