from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class AnnouncementLevel(ChoiceSet):
    """How loud an announcement (公告) is; the colour is the banner's."""

    INFO = "info"
    IMPORTANT = "important"
    MAINTENANCE = "maintenance"
    INCIDENT = "incident"

    CHOICES = (
        (INFO, _("通知"), "blue"),
        (IMPORTANT, _("重要"), "orange"),
        (MAINTENANCE, _("维护"), "orange"),
        (INCIDENT, _("故障"), "red"),
    )


class MaintenanceImpact(ChoiceSet):
    NONE = "none"
    BRIEF = "brief"
    DOWNTIME = "downtime"

    CHOICES = (
        (NONE, _("不影响使用"), "green"),
        (BRIEF, _("短暂中断"), "orange"),
        (DOWNTIME, _("服务中断"), "red"),
    )


class MaintenanceState(ChoiceSet):
    """A window is a draft until published (customers told); a published window can be cancelled."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    CHOICES = (
        (DRAFT, _("草稿"), "grey"),
        (PUBLISHED, _("已发布"), "blue"),
        (CANCELLED, _("已取消"), "grey"),
    )


class MaintenanceNoticeKind(ChoiceSet):
    SCHEDULED = "scheduled"
    EXTENDED = "extended"
    CANCELLED = "cancelled"

    CHOICES = (
        (SCHEDULED, _("维护通知")),
        (EXTENDED, _("维护延长通知")),
        (CANCELLED, _("维护取消通知")),
    )


class IncidentStatus(ChoiceSet):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    OPEN = (INVESTIGATING, IDENTIFIED, MONITORING)

    CHOICES = (
        (INVESTIGATING, _("调查中"), "red"),
        (IDENTIFIED, _("已定位"), "orange"),
        (MONITORING, _("观察中"), "blue"),
        (RESOLVED, _("已解决"), "green"),
    )


class CreditState(ChoiceSet):
    PROPOSED = "proposed"
    PAID = "paid"
    REJECTED = "rejected"

    CHOICES = (
        (PROPOSED, _("待审核"), "orange"),
        (PAID, _("已发放"), "green"),
        (REJECTED, _("已驳回"), "grey"),
    )
