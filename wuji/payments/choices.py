from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class PaymentChannel(ChoiceSet):
    SANDBOX = "sandbox"

    CHOICES = ((SANDBOX, _("演示支付网关（沙箱，不会真实扣款）")),)


class TopUpStatus(ChoiceSet):
    PENDING = "pending"
    PAID = "paid"

    CHOICES = (
        (PENDING, _("待支付"), "orange"),
        (PAID, _("已到账"), "green"),
    )
