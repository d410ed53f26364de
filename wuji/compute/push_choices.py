"""States of a server push (服务器push, clause 3.2)."""

from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class PushState(ChoiceSet):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    CLOSED = (ACCEPTED, DECLINED, CANCELLED, EXPIRED)

    CHOICES = (
        (OFFERED, _("待接收"), "blue"),
        (ACCEPTED, _("已接收"), "green"),
        (DECLINED, _("已拒绝"), "orange"),
        (CANCELLED, _("已撤回"), "grey"),
        (EXPIRED, _("已过期"), "grey"),
    )
