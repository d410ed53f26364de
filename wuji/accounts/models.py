from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("e-mail is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A customer or staff account; customers sign in with their e-mail. One person or entity per account."""

    username = None
    email = models.EmailField(verbose_name=_("e-mail"), unique=True)
    language = models.CharField(
        verbose_name=_("language"), max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )
    # Mainland mobile in E.164 (+86…), set only once verified by a code; a second sign-in identifier.
    phone = models.CharField(verbose_name=_("手机号码"), max_length=20, unique=True, null=True, blank=True)
    # Set by report-unauthorised-use (2.2.1): a locked account cannot sign in and its API keys fail.
    locked_at = models.DateTimeField(verbose_name=_("锁定时间"), null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email


from .contact_models import *  # noqa
from .otp_models import *  # noqa
from .restriction_models import *  # noqa
from .security_models import *  # noqa
