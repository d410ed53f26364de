from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class BillingCycle(ChoiceSet):
    """Prepaid billing cycles (包年包月). Each has its own price rows; a subscription renews by its cycle."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"

    MONTHS = {MONTHLY: 1, QUARTERLY: 3, YEARLY: 12}

    CHOICES = (
        (MONTHLY, _("按月")),
        (QUARTERLY, _("按季")),
        (YEARLY, _("按年")),
    )


class PlatformService(ChoiceSet):
    """One-off platform services with a fee on the service fee list (`ServiceFee`)."""

    SERVER_PUSH = "server_push"

    CHOICES = ((SERVER_PUSH, _("服务器转让手续费")),)
