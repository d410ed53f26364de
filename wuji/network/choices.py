from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class AddressState(ChoiceSet):
    """Where a server's public address stands between the platform's books and the hypervisor.

    An allocation is open while `pending`, `bound` or `held`; `released` closes it (history)."""

    PENDING = "pending"  # the server's, not (yet) applied to the instance: the sync job applies it
    BOUND = "bound"  # applied to the instance, confirmed by the hypervisor
    HELD = "held"  # blackholed: taken off the instance but kept for the server until the blackhole ends
    RELEASED = "released"  # returned to the pool

    OPEN = (PENDING, BOUND, HELD)

    CHOICES = (
        (PENDING, _("待绑定"), "blue"),
        (BOUND, _("已绑定"), "green"),
        (HELD, _("黑洞封堵中"), "red"),
        (RELEASED, _("已释放"), "grey"),
    )
