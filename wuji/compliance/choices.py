from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class FilingStatus(ChoiceSet):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"

    LIVE = (SUBMITTED, APPROVED)  # a domain has at most one of these

    CHOICES = (
        (SUBMITTED, _("待审核"), "blue"),
        (APPROVED, _("已通过"), "green"),
        (REJECTED, _("已驳回"), "red"),
    )
