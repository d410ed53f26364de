from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class BillingCycle(ChoiceSet):
    MONTHLY = "monthly"

    MONTHS = {MONTHLY: 1}

    CHOICES = ((MONTHLY, _("按月")),)
