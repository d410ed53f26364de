"""Choices of pay-as-you-go billing (kept apart from billing/choices.py, which another piece owns)."""

from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class MeterRate(ChoiceSet):
    """Which unit price a meter is accruing at now."""

    RUNNING = "running"
    STOPPED = "stopped"
    NONE = "none"

    CHOICES = (
        (RUNNING, _("运行计费"), "green"),
        (STOPPED, _("关机计费"), "grey"),
        (NONE, _("不计费"), "grey"),
    )
