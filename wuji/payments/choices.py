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
