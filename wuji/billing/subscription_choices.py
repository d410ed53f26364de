"""Choices of prepaid subscriptions (包年包月)."""

from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class SubscriptionState(ChoiceSet):
    ACTIVE = "active"
    EXPIRED = "expired"  # past its end: the server is suspended (expiry) and kept for the retention period
    RELEASED = "released"  # retention ended: the server and its disk are gone
    REFUNDED = "refunded"  # provisioning failed: the order was refunded in full, the server released

    LIVE = (ACTIVE, EXPIRED)

    CHOICES = (
        (ACTIVE, _("有效"), "green"),
        (EXPIRED, _("已到期"), "orange"),
        (RELEASED, _("已释放"), "grey"),
        (REFUNDED, _("已退款"), "grey"),
    )


class ChargeKind(ChoiceSet):
    ORDER = "order"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    PROVISIONING_REFUND = "provisioning_refund"

    CHOICES = (
        (ORDER, _("新购")),
        (RENEWAL, _("续费")),
        (UPGRADE, _("升级配置")),
        (DOWNGRADE, _("降级配置")),
        (PROVISIONING_REFUND, _("开通失败退款")),
    )
