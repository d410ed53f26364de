"""Enumerations of the accounts app (sign-in, login records, security cases)."""

from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class LoginEvent(ChoiceSet):
    LOGIN = "login"
    FAILED = "failed"
    LOGOUT = "logout"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET = "password_reset"
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    MFA_RECOVERY_CODES_RESET = "mfa_recovery_codes_reset"
    MFA_VERIFIED = "mfa_verified"
    STEP_UP = "step_up"
    CHOICES = (
        (LOGIN, _("登录"), "green"),
        (FAILED, _("登录失败"), "red"),
        (LOGOUT, _("退出"), "grey"),
        (PASSWORD_CHANGE, _("修改密码"), "orange"),
        (PASSWORD_RESET, _("重置密码"), "orange"),
        (MFA_ENABLED, _("启用两步验证"), "blue"),
        (MFA_DISABLED, _("停用两步验证"), "orange"),
        (MFA_RECOVERY_CODES_RESET, _("重新生成恢复码"), "blue"),
        (MFA_VERIFIED, _("两步验证通过"), "green"),
        (STEP_UP, _("敏感操作验证"), "blue"),
    )


class LoginResult(ChoiceSet):
    SUCCESS = "success"
    WRONG_CREDENTIALS = "wrong_credentials"
    RATE_LIMITED = "rate_limited"
    LOCKED = "locked"
    WRONG_FACTOR = "wrong_factor"
    CHOICES = (
        (SUCCESS, _("成功"), "green"),
        (WRONG_CREDENTIALS, _("账号或密码错误"), "red"),
        (RATE_LIMITED, _("尝试过于频繁"), "red"),
        (LOCKED, _("账户已锁定"), "red"),
        (WRONG_FACTOR, _("验证码错误"), "red"),
    )


class CaseState(ChoiceSet):
    OPEN = "open"
    RESOLVED = "resolved"
    CHOICES = ((OPEN, _("待处理"), "orange"), (RESOLVED, _("已解锁"), "green"))


class Factor(ChoiceSet):
    """What authorised a sensitive operation (recorded in the instruction's params, clause 3.1.2)."""

    PASSWORD = "password"
    TOTP = "totp"
    SMS = "sms"
    EMAIL = "email"
    NONE = "none"
    CHOICES = (
        (PASSWORD, _("登录密码")),
        (TOTP, _("身份验证器（TOTP）")),
        (SMS, _("短信验证码")),
        (EMAIL, _("邮件验证码")),
        (NONE, _("无需验证")),
    )


class ContactKind(ChoiceSet):
    """The contacts clause 4.5.1 requires to stay valid."""

    MOBILE = "mobile"
    EMAIL = "email"
    QQ = "qq"
    CHOICES = (
        (MOBILE, _("手机号码")),
        (EMAIL, _("电子邮箱")),
        (QQ, _("QQ 号码")),
    )


class RestrictedFunction(ChoiceSet):
    """Account functions staff can restrict selectively (clause 4.5.2.2: 新购、续费等部分或全部功能)."""

    PURCHASE = "purchase"
    RENEWAL = "renewal"
    WITHDRAWAL = "withdrawal"
    API = "api"
    CHOICES = (
        (PURCHASE, _("购买新产品或服务"), "red"),
        (RENEWAL, _("续费（含自动续费）"), "red"),
        (WITHDRAWAL, _("提现"), "red"),
        (API, _("API 访问"), "red"),
    )
    ENGLISH = {PURCHASE: "new purchases", RENEWAL: "renewals (including automatic renewal)",
               WITHDRAWAL: "withdrawals", API: "API access"}
