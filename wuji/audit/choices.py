from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class Channel(ChoiceSet):
    WEB = "web"
    API = "api"
    SMS = "sms"
    EMAIL = "email"
    STAFF = "staff"
    SYSTEM = "system"

    CHOICES = (
        (WEB, _("网站")),
        (API, _("API")),
        (SMS, _("短信")),
        (EMAIL, _("电子邮件")),
        (STAFF, _("工作人员")),
        (SYSTEM, _("系统")),
    )


class Result(ChoiceSet):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    CHOICES = (
        (ACCEPTED, _("已受理"), "blue"),
        (REFUSED, _("已拒绝"), "orange"),
        (SUCCEEDED, _("成功"), "green"),
        (FAILED, _("失败"), "red"),
    )
