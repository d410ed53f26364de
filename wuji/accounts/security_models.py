"""Profiles (6.2), login records (6.4), security questions (6.1) and security cases (2.2.1).

Written only by `wuji.accounts.services` (and the signal receivers in `wuji.accounts.signals`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import CaseState, LoginEvent, LoginResult
from .validators import validate_qq

__all__ = ["LoginRecord", "Profile", "SecurityCase", "SecurityQuestion"]


class Profile(models.Model):
    """The account holder's details of clause 6.2. Phone and e-mail live on the user (they sign in with
    them and change only through re-verification); the real name follows real-name verification."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    real_name = models.CharField(verbose_name=_("真实姓名"), max_length=100, blank=True)
    address = models.CharField(verbose_name=_("联系地址"), max_length=255, blank=True)
    nationality = models.CharField(verbose_name=_("国籍"), max_length=64, blank=True, default="中国")
    province = models.CharField(verbose_name=_("省份"), max_length=64, blank=True)
    city = models.CharField(verbose_name=_("城市"), max_length=64, blank=True)
    time_zone = models.CharField(verbose_name=_("时区"), max_length=64, blank=True, default="Asia/Shanghai")
    post_code = models.CharField(verbose_name=_("邮政编码"), max_length=16, blank=True)
    fax = models.CharField(verbose_name=_("传真"), max_length=32, blank=True)
    homepage = models.URLField(verbose_name=_("个人主页"), blank=True)
    job_title = models.CharField(verbose_name=_("职位"), max_length=64, blank=True)
    # A contact of clause 4.5.1 that must stay valid; not a sign-in identifier, so no code verifies it.
    qq = models.CharField(verbose_name=_("QQ 号码"), max_length=11, blank=True, validators=[validate_qq],
                          help_text=_("5–11 位数字，不以 0 开头。"))
    updated_at = models.DateTimeField(verbose_name=_("更新时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户资料")
        verbose_name_plural = _("用户资料")

    def __str__(self) -> str:
        return self.real_name or str(self.user)


class LoginRecord(models.Model):
    """One sign-in event (clause 6.4): append-only, shown only to its own user, kept at least 180 days.

    `user` is null when the attempted identifier matches no account; `identifier` keeps what was typed
    (an e-mail or a mobile number), never a password.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="login_records",
    )
    identifier = models.CharField(verbose_name=_("登录标识"), max_length=254, blank=True)
    event = models.CharField(verbose_name=_("事件"), max_length=32, choices=LoginEvent.choices())
    result = models.CharField(verbose_name=_("结果"), max_length=32, choices=LoginResult.choices(),
                              default=LoginResult.SUCCESS)
    detail = models.CharField(verbose_name=_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(verbose_name=_("时间"), db_index=True)
    ip = models.GenericIPAddressField(verbose_name=_("IP 地址"), null=True, blank=True)
    port = models.PositiveIntegerField(verbose_name=_("源端口"), null=True, blank=True)
    user_agent = models.CharField(verbose_name=_("客户端"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("登录记录")
        verbose_name_plural = _("登录记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="accounts_login_user_time"),
            models.Index(fields=["identifier", "event", "created_at"], name="accounts_login_ident_time"),
            models.Index(fields=["ip", "event", "created_at"], name="accounts_login_ip_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event}:{self.identifier or self.user_id}@{self.created_at:%Y-%m-%d %H:%M}"


class SecurityQuestion(models.Model):
    """The account's security question (6.1). The answer is stored only as a password hash of its
    normalised form (trimmed, case-folded), so staff cannot read it either."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="security_question",
    )
    question = models.CharField(verbose_name=_("密保问题"), max_length=200)
    answer_hash = models.CharField(verbose_name=_("答案摘要"), max_length=256)
    updated_at = models.DateTimeField(verbose_name=_("设置时间"))

    class Meta:
        verbose_name = _("密保问题")
        verbose_name_plural = _("密保问题")

    def __str__(self) -> str:
        return self.question


class SecurityCase(models.Model):
    """A report of unauthorised use (2.2.1): the account was locked when it was opened and stays locked
    until staff resolve the case after review."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        related_name="security_cases",
    )
    state = models.CharField(verbose_name=_("状态"), max_length=16, choices=CaseState.choices(),
                             default=CaseState.OPEN)
    description = models.TextField(verbose_name=_("用户描述"), blank=True)
    reported_at = models.DateTimeField(verbose_name=_("报告时间"))
    reported_ip = models.GenericIPAddressField(verbose_name=_("报告 IP"), null=True, blank=True)
    sessions_ended = models.PositiveIntegerField(verbose_name=_("结束的会话数"), default=0)
    keys_revoked = models.PositiveIntegerField(verbose_name=_("吊销的密钥数"), default=0)
    resolved_at = models.DateTimeField(verbose_name=_("解锁时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution = models.TextField(verbose_name=_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("安全事件")
        verbose_name_plural = _("安全事件")
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="open", resolved_at__isnull=True)
                | models.Q(state="resolved", resolved_at__isnull=False),
                name="accounts_securitycase_resolved_consistent",
                violation_error_message=_("已解锁的安全事件必须有解锁时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.user}"
