from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledRun(models.Model):
    """One row per (periodic job, time slot): the unique constraint is what makes a slot run once,
    however many scheduler replicas tick at the same moment."""

    job = models.CharField(verbose_name=_("job"), max_length=100)
    slot = models.DateTimeField(verbose_name=_("slot start"))
    enqueued_at = models.DateTimeField(verbose_name=_("enqueued at"))
    task_result_id = models.CharField(verbose_name=_("task result id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        ordering = ["-slot", "job"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="core_scheduledrun_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot.isoformat()}"
