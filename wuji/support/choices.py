from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class TicketCategory(ChoiceSet):
    """What a ticket is about; each category is answered by one staff role (a Django group)."""

    ACCOUNT = "account"
    BILLING = "billing"
    SERVERS = "servers"
    ICP = "icp"
    ABUSE = "abuse"
    OTHER = "other"

    ROLE = {ACCOUNT: "support", BILLING: "finance", SERVERS: "operations", ICP: "compliance", ABUSE: "compliance",
            OTHER: "support"}

    CHOICES = (
        (ACCOUNT, _("账户与实名")),
        (BILLING, _("财务与发票")),
        (SERVERS, _("服务器与网络")),
        (ICP, _("备案")),
        (ABUSE, _("滥用与投诉")),
        (OTHER, _("其他")),
    )

    @classmethod
    def of_roles(cls, roles) -> list[str]:
        return [category for category, role in cls.ROLE.items() if role in set(roles)]


class TicketPriority(ChoiceSet):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    CUSTOMER = (LOW, NORMAL, HIGH)  # urgent is set by staff only

    CHOICES = (
        (LOW, _("低"), "grey"),
        (NORMAL, _("普通"), "blue"),
        (HIGH, _("高"), "orange"),
        (URGENT, _("紧急"), "red"),
    )


class TicketStatus(ChoiceSet):
    """open → waiting for staff / waiting for customer → resolved → closed (a resolved or closed ticket may be
    reopened within WUJI_TICKET_REOPEN_DAYS)."""

    OPEN = "open"
    WAITING_STAFF = "waiting_staff"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"

    ACTIVE = (OPEN, WAITING_STAFF, WAITING_CUSTOMER)
    STAFF_SETTABLE = (WAITING_STAFF, WAITING_CUSTOMER, RESOLVED, CLOSED)

    CHOICES = (
        (OPEN, _("待处理"), "blue"),
        (WAITING_STAFF, _("等待客服回复"), "orange"),
        (WAITING_CUSTOMER, _("等待客户回复"), "yellow"),
        (RESOLVED, _("已解决"), "green"),
        (CLOSED, _("已关闭"), "grey"),
    )
