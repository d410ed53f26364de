"""Django settings for Wuji Cloud.

Operator configuration comes from environment variables (12-factor) with safe embedded defaults that
run the platform on one machine with SQLite. `wuji check-deploy` refuses unsafe production values.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WUJI_VAR_DIR", BASE_DIR / "var"))
# The embedded default keeps its database and collected static files here; create it on first start.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("WUJI_DEBUG", False)
SECRET_KEY = os.environ.get("WUJI_SECRET_KEY", "dev-insecure-wuji-secret-key-change-me-in-production")
ALLOWED_HOSTS = os.environ.get("WUJI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "wuji.core",
    "wuji.accounts",
    "wuji.agreements",
    "wuji.catalog",
    "wuji.ledger",
    "wuji.billing",
    "wuji.payments",
    "wuji.compute",
    "wuji.network",
    "wuji.audit",
    "wuji.identity",
    "wuji.notifications",
    "wuji.api",
    "wuji.portal",
    "wuji.finance",
    # --- issue 5: network
    "wuji.compliance",
    # Sign-in (issue 3): allauth after the wuji apps, so wuji/accounts/templates overrides its templates.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.weixin",
    "wuji.accounts.providers.qq",
    "wuji.support",  # issue 6: tickets
    "wuji.status",  # issue 6: status
    "wuji.abuse",  # issue 6: cases
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wuji.core.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "wuji.accounts.middleware.LockedAccountMiddleware",
    "wuji.agreements.middleware.AgreementAcceptanceMiddleware",  # clause 11: accept the version in force
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wuji.urls"
WSGI_APPLICATION = "wuji.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wuji.portal.context.platform",
                "wuji.accounts.context.contact_flags",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite (WAL, BEGIN IMMEDIATE) is the embedded default; PostgreSQL via DATABASE_URL in production.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'wuji.sqlite3'}"),
        conn_max_age=int(os.environ.get("WUJI_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("WUJI_TEST_SQLITE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "wuji" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # business time; storage is UTC (USE_TZ)
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("WUJI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production sits behind nginx, which terminates TLS, redirects plain HTTP and says so in X-Forwarded-Proto.
SECURE_HSTS_SECONDS = int(os.environ.get("WUJI_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("WUJI_HSTS_INCLUDE_SUBDOMAINS", False)
if env_bool("WUJI_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Fernet keys for secrets at rest (newest first; older keys still decrypt, which allows rotation).
WUJI_ENCRYPTION_KEYS = [
    k for k in os.environ.get("WUJI_ENCRYPTION_KEYS", "").split(",") if k
] or ["ZGV2LWluc2VjdXJlLXd1amktZW5jcnlwdGlvbi1rZXk="]

# --- Background work ------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wuji.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "wuji.agreements.api.permissions.AgreementAccepted"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "wuji.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wuji Cloud API",
    "DESCRIPTION": "武极云 public API, v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Named enums where two serializers' fields of the same name (status, kind) would otherwise collide.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "wuji.support.choices.TicketStatus.choices",
        "NoticeKindEnum": "wuji.notifications.choices.NoticeKind.choices",
        "TicketCategoryEnum": "wuji.support.choices.TicketCategory.choices",
        "CaseCategoryEnum": "wuji.abuse.choices.CaseCategory.choices",
    },
}

# --- Platform -------------------------------------------------------------------------------------
# The sandbox gateway is a demo payment channel: off unless enabled here.
WUJI_SANDBOX_PAYMENTS = env_bool("WUJI_SANDBOX_PAYMENTS", False)
WUJI_SANDBOX_SECRET = os.environ.get("WUJI_SANDBOX_SECRET", "sandbox-demo-signing-secret")
# Spending order for charges: "gift_first" (default) or "cash_first".
WUJI_SPENDING_ORDER = os.environ.get("WUJI_SPENDING_ORDER", "gift_first")
# Operation timeout after which the reconciler treats an in-flight task_state as stuck.
WUJI_OPERATION_TIMEOUT_SECONDS = int(os.environ.get("WUJI_OPERATION_TIMEOUT_SECONDS", "900"))
WUJI_STOP_TIMEOUT_SECONDS = float(os.environ.get("WUJI_STOP_TIMEOUT_SECONDS", "60"))
# Real-name verification (实名认证): where purchases need it ("mainland", "all" or "none"), how many
# approved accounts one identity may back, who checks identities ("manual" or a dotted provider class),
# and where ID photos and licences are kept (never under static or a public URL).
WUJI_REAL_NAME_REQUIRED_REGIONS = os.environ.get("WUJI_REAL_NAME_REQUIRED_REGIONS", "mainland")
WUJI_MAX_ACCOUNTS_PER_IDENTITY = int(os.environ.get("WUJI_MAX_ACCOUNTS_PER_IDENTITY", "5"))
WUJI_IDENTITY_PROVIDER = os.environ.get("WUJI_IDENTITY_PROVIDER", "manual")
WUJI_PRIVATE_FILES_DIR = Path(os.environ.get("WUJI_PRIVATE_FILES_DIR", VAR_DIR / "private"))
# Contacts must stay valid (clause 4.5.1): days a user has to fix a contact found invalid, and how many
# consecutive failed notice deliveries on a channel flag that contact automatically.
WUJI_CONTACT_FIX_DAYS = int(os.environ.get("WUJI_CONTACT_FIX_DAYS", "15"))
WUJI_CONTACT_UNDELIVERABLE_AFTER = int(os.environ.get("WUJI_CONTACT_UNDELIVERABLE_AFTER", "3"))

# E-mail: console by default (the demo prints mails); SMTP in production via EMAIL_* variables.
EMAIL_BACKEND = os.environ.get("WUJI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("WUJI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("WUJI_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("WUJI_DEFAULT_FROM_EMAIL", "武极云 <noreply@wuji.local>")

# --- issue 5: snapshots (wuji.compute.snapshots, docs/decisions/0028) -----------------------------------
WUJI_SNAPSHOTS_PER_SERVER = int(os.environ.get("WUJI_SNAPSHOTS_PER_SERVER", "3"))

# --- One-time codes and SMS (wuji.accounts.otp, docs/decisions/0012) -----------------------------------
WUJI_SMS_BACKEND = os.environ.get("WUJI_SMS_BACKEND", "wuji.accounts.sms.log.LogSmsBackend")
WUJI_SMS_TIMEOUT_SECONDS = float(os.environ.get("WUJI_SMS_TIMEOUT_SECONDS", "10"))
WUJI_SMS_SIGN_NAME = os.environ.get("WUJI_SMS_SIGN_NAME", "武极云")
# Template per code purpose ("default" for the rest): Aliyun "SMS_123456789", Tencent numeric template id.
# Notices by SMS use a vendor template with one parameter, the notice's subject; per-event overrides allowed.
WUJI_SMS_NOTICE_TEMPLATES = {"default": os.environ.get("WUJI_SMS_NOTICE_TEMPLATE", "SMS_NOTICE")}
WUJI_SMS_CODE_TEMPLATES = {"default": os.environ.get("WUJI_SMS_CODE_TEMPLATE", "SMS_CODE")}
WUJI_SMS_ALIYUN = {
    "ACCESS_KEY_ID": os.environ.get("WUJI_SMS_ALIYUN_ACCESS_KEY_ID", ""),
    "ACCESS_KEY_SECRET": os.environ.get("WUJI_SMS_ALIYUN_ACCESS_KEY_SECRET", ""),
    "ENDPOINT": os.environ.get("WUJI_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/"),
}
WUJI_SMS_TENCENT = {
    "SECRET_ID": os.environ.get("WUJI_SMS_TENCENT_SECRET_ID", ""),
    "SECRET_KEY": os.environ.get("WUJI_SMS_TENCENT_SECRET_KEY", ""),
    "SDK_APP_ID": os.environ.get("WUJI_SMS_TENCENT_SDK_APP_ID", ""),
    "REGION": os.environ.get("WUJI_SMS_TENCENT_REGION", "ap-guangzhou"),
    "ENDPOINT": os.environ.get("WUJI_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/"),
}
WUJI_OTP_TTL_SECONDS = int(os.environ.get("WUJI_OTP_TTL_SECONDS", "300"))
WUJI_OTP_MAX_ATTEMPTS = int(os.environ.get("WUJI_OTP_MAX_ATTEMPTS", "5"))
# (max sends, window seconds) per address (domain-cn §7.2: 1/min, 5/h, 10/24 h) and per requesting IP.
WUJI_OTP_ADDRESS_LIMITS = [(1, 60), (5, 3600), (10, 86400)]
WUJI_OTP_IP_LIMITS = [(int(os.environ.get("WUJI_OTP_IP_PER_HOUR", "20")), 3600)]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WUJI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Sign-in, MFA, sessions, social accounts, step-up (wuji.accounts, docs/decisions/0013) -----------
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
ACCOUNT_ADAPTER = "wuji.accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# "none", "optional" (default: existing flows keep working) or "mandatory".
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("WUJI_EMAIL_VERIFICATION", "optional")
ACCOUNT_PHONE_VERIFICATION_ENABLED = False  # phones are verified with wuji.accounts.otp codes instead
ACCOUNT_SIGNUP_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_RATE_LIMITS = {
    "login_failed": os.environ.get("WUJI_LOGIN_FAILED_RATE", "20/m/ip,5/5m/key"),
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[武极云] "
# The platform's own failed-login counter (database-backed, so it holds across processes):
# (max failures, window seconds) per attempted account and per IP.
WUJI_LOGIN_FAILURE_LIMITS = {
    "account": (int(os.environ.get("WUJI_LOGIN_FAILURES_PER_ACCOUNT", "5")), 900),
    "ip": (int(os.environ.get("WUJI_LOGIN_FAILURES_PER_IP", "20")), 900),
}
# Login records are kept at least 180 days (clause 6.4); a smaller value is raised to 180.
WUJI_LOGIN_RECORD_RETENTION_DAYS = max(180, int(os.environ.get("WUJI_LOGIN_RECORD_RETENTION_DAYS", "180")))

MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "武极云"
# A code from the 30-second step before or after the server's is accepted (RFC 6238 5.2: transmission delay and
# clock drift). With allauth's default of 0, a code typed near the end of its step failed when it arrived in the
# next one (a CI run caught a step-up failing this way); allauth still refuses a code used once.
MFA_TOTP_TOLERANCE = 1
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# allauth refuses to enrol a second factor while the e-mail address is unverified; demos may relax that.
MFA_ALLOW_UNVERIFIED_EMAIL = env_bool("WUJI_MFA_ALLOW_UNVERIFIED_EMAIL", False)

USERSESSIONS_TRACK_ACTIVITY = True

SOCIALACCOUNT_ADAPTER = "wuji.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False  # a third-party account is bound from the security page, not a new account
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS = {
    provider: {"APPS": [{"client_id": os.environ[f"WUJI_{env}_CLIENT_ID"],
                         "secret": os.environ.get(f"WUJI_{env}_SECRET", "")}]}
    for provider, env in (("github", "GITHUB"), ("weixin", "WEIXIN"), ("qq", "QQ"))
    if os.environ.get(f"WUJI_{env}_CLIENT_ID")  # a provider without credentials is not offered
}

# Step-up verification for sensitive operations (clause 3.1.2): how recent a re-authentication must be,
# and which factors may authorise the operation. None switches step-up off for that operation.
WUJI_STEP_UP = {
    "reinstall": {"within_minutes": 10, "factors": ["password", "totp", "sms", "email"]},
    "api_key_create": {"within_minutes": 10, "factors": ["password", "totp", "sms", "email"]},
    "password_change": {"within_minutes": 10, "factors": ["password", "totp", "sms", "email"]},
    "contact_change": {"within_minutes": 10, "factors": ["password", "totp", "sms", "email"]},
    "withdrawal": {"within_minutes": 5, "factors": ["totp", "sms", "email"]},
    "server_push": {"within_minutes": 5, "factors": ["totp", "sms", "email"]},
}
# --- issue 5: ops
# Resetting a server's root password is as sensitive as a reinstall (whoever has it owns the machine).
WUJI_STEP_UP["reset_password"] = {"within_minutes": 10, "factors": ["password", "totp", "sms", "email"]}
# --- issue 6: datarights
# A download of all one's data is what a thief of the session would want most (decision 0031).
WUJI_STEP_UP["data_export"] = {"within_minutes": 10, "factors": ["password", "totp", "sms", "email"]}
# Cancelling the account cannot be undone by the user, so the verification must be fresh (5 minutes).
WUJI_STEP_UP["account_cancel"] = {"within_minutes": 5, "factors": ["password", "totp", "sms", "email"]}

# --- Money ----------------------------------------------------------------------------------------
# Billing: subscriptions, renewals, upgrades, expiry lifecycle.
# Auto-renewal of prepaid subscriptions is charged this many days before expiry, retried daily until expiry.
WUJI_AUTO_RENEW_DAYS_BEFORE = int(os.environ.get("WUJI_AUTO_RENEW_DAYS_BEFORE", "3"))
# Expiry reminders, in days before expiry (each sent once per period).
WUJI_EXPIRY_REMINDER_DAYS = [int(d) for d in os.environ.get("WUJI_EXPIRY_REMINDER_DAYS", "7,3,1").split(",") if d]
# An expired (suspended) prepaid server is kept this many days, then released with its disk.
WUJI_EXPIRED_RETENTION_DAYS = int(os.environ.get("WUJI_EXPIRED_RETENTION_DAYS", "15"))
# The release notice is sent this many days before release.
WUJI_RELEASE_NOTICE_DAYS = int(os.environ.get("WUJI_RELEASE_NOTICE_DAYS", "1"))
# Most cycles a single renewal may buy.
WUJI_RENEW_MAX_CYCLES = int(os.environ.get("WUJI_RENEW_MAX_CYCLES", "36"))

# Billing: pay-as-you-go settlement and arrears lifecycle.
# Settlement period of pay-as-you-go meters in minutes (default hourly, like the big Chinese clouds).
WUJI_PAYG_SETTLEMENT_MINUTES = int(os.environ.get("WUJI_PAYG_SETTLEMENT_MINUTES", "60"))
# Meters settled per database transaction: bounds how long a settlement holds customer row locks.
WUJI_PAYG_SETTLEMENT_CHUNK = int(os.environ.get("WUJI_PAYG_SETTLEMENT_CHUNK", "1000"))
# Target duration of one chunk (seconds): a slower chunk halves the next one, a fast one doubles it back.
WUJI_PAYG_CHUNK_TARGET_SECONDS = float(os.environ.get("WUJI_PAYG_CHUNK_TARGET_SECONDS", "0.5"))
# Minimum available balance (fen) to buy a pay-as-you-go server (Aliyun asks for 100 元).
WUJI_PAYG_MIN_BALANCE_FEN = int(os.environ.get("WUJI_PAYG_MIN_BALANCE_FEN", "10000"))
# Low-balance warnings when the balance covers fewer than these hours of current hourly spend (once per episode).
WUJI_PAYG_WARN_HOURS = tuple(int(h) for h in os.environ.get("WUJI_PAYG_WARN_HOURS", "72,24").split(","))
# Arrears (4.5.2.1): grace before suspension, retention before release, and the release notice lead time.
WUJI_PAYG_GRACE_HOURS = int(os.environ.get("WUJI_PAYG_GRACE_HOURS", "2"))
WUJI_PAYG_RETENTION_DAYS = int(os.environ.get("WUJI_PAYG_RETENTION_DAYS", "15"))
WUJI_PAYG_RELEASE_NOTICE_HOURS = int(os.environ.get("WUJI_PAYG_RELEASE_NOTICE_HOURS", "24"))
# How often the arrears job looks at meters (minutes).
WUJI_PAYG_ARREARS_CHECK_MINUTES = int(os.environ.get("WUJI_PAYG_ARREARS_CHECK_MINUTES", "10"))

# Payments: channels (Alipay, WeChat Pay, bank transfer), top-up expiry and reconciliation.
# Unpaid top-ups close after this many minutes (the channel is given the same deadline); the reconciliation
# job queries the channel about orders pending longer than WUJI_TOPUP_QUERY_AFTER_MINUTES.
WUJI_TOPUP_EXPIRY_MINUTES = int(os.environ.get("WUJI_TOPUP_EXPIRY_MINUTES", "120"))
WUJI_TOPUP_QUERY_AFTER_MINUTES = int(os.environ.get("WUJI_TOPUP_QUERY_AFTER_MINUTES", "5"))
# Alipay (支付宝, RSA2). Keys are PEM text or a path to a PEM file. No app id or no keys: Alipay is not offered.
# The gateway URL is a setting so a test or a staging setup can point it elsewhere (the sandbox gateway is
# https://openapi-sandbox.dl.alipaydev.com/gateway.do). seller_id, when set, must match the notice's.
WUJI_ALIPAY_APP_ID = os.environ.get("WUJI_ALIPAY_APP_ID", "")
WUJI_ALIPAY_PRIVATE_KEY = os.environ.get("WUJI_ALIPAY_PRIVATE_KEY", "")
WUJI_ALIPAY_PUBLIC_KEY = os.environ.get("WUJI_ALIPAY_PUBLIC_KEY", "")  # Alipay's public key, not ours
WUJI_ALIPAY_SELLER_ID = os.environ.get("WUJI_ALIPAY_SELLER_ID", "")
WUJI_ALIPAY_GATEWAY = os.environ.get("WUJI_ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do")
WUJI_ALIPAY_NOTIFY_URL = os.environ.get("WUJI_ALIPAY_NOTIFY_URL", "")  # https://<site>/payments/notify/alipay/
WUJI_ALIPAY_RETURN_URL = os.environ.get("WUJI_ALIPAY_RETURN_URL", "")  # https://<site>/wallet/topups/
# WeChat Pay APIv3 (微信支付, Native). The merchant's private key is PEM text or a path; the platform's key is
# either the 微信支付公钥 (PUBLIC_KEY + PUBLIC_KEY_ID) or platform certificates kept in CERT_DIR.
WUJI_WECHAT_MCHID = os.environ.get("WUJI_WECHAT_MCHID", "")
WUJI_WECHAT_APPID = os.environ.get("WUJI_WECHAT_APPID", "")
WUJI_WECHAT_CERT_SERIAL_NO = os.environ.get("WUJI_WECHAT_CERT_SERIAL_NO", "")
WUJI_WECHAT_APIV3_KEY = os.environ.get("WUJI_WECHAT_APIV3_KEY", "")  # 32 ASCII bytes
WUJI_WECHAT_PRIVATE_KEY = os.environ.get("WUJI_WECHAT_PRIVATE_KEY", "")
WUJI_WECHAT_PUBLIC_KEY = os.environ.get("WUJI_WECHAT_PUBLIC_KEY", "")
WUJI_WECHAT_PUBLIC_KEY_ID = os.environ.get("WUJI_WECHAT_PUBLIC_KEY_ID", "")
WUJI_WECHAT_CERT_DIR = os.environ.get("WUJI_WECHAT_CERT_DIR", "")
WUJI_WECHAT_API_BASE = os.environ.get("WUJI_WECHAT_API_BASE", "https://api.mch.weixin.qq.com")
WUJI_WECHAT_NOTIFY_URL = os.environ.get("WUJI_WECHAT_NOTIFY_URL", "")  # https://<site>/payments/notify/wechat/
# Notices whose Wechatpay-Timestamp is further than this from now are refused (replay window).
WUJI_WECHAT_NOTICE_WINDOW_SECONDS = int(os.environ.get("WUJI_WECHAT_NOTICE_WINDOW_SECONDS", "300"))
# Bank transfer (对公转账): our receiving account, shown to customers; no account number: not offered.
WUJI_BANK_ACCOUNT_NAME = os.environ.get("WUJI_BANK_ACCOUNT_NAME", "赣州武极云计算有限公司")
WUJI_BANK_ACCOUNT_NUMBER = os.environ.get("WUJI_BANK_ACCOUNT_NUMBER", "")
WUJI_BANK_NAME = os.environ.get("WUJI_BANK_NAME", "")  # bank and branch (开户行)
WUJI_BANK_RECEIPT_MAX_BYTES = int(os.environ.get("WUJI_BANK_RECEIPT_MAX_BYTES", str(5 * 1024 * 1024)))

# Billing/payments: freezes, appeals, withdrawals, refunds to the original source.
# Fund freezes (5.4): days a customer has to appeal a freeze (5.4.7), and whether the staff member who
# froze the funds may also decide the appeal or lift the freeze (False = four-eyes: another staff member must).
WUJI_FREEZE_APPEAL_DAYS = int(os.environ.get("WUJI_FREEZE_APPEAL_DAYS", "7"))
WUJI_FREEZE_SAME_STAFF_MAY_DECIDE = env_bool("WUJI_FREEZE_SAME_STAFF_MAY_DECIDE", False)
# Withdrawals (提现) of cash, never gift credit: minimum and maximum per withdrawal (fen), how many in a
# rolling period, the fee (fixed fen plus basis points of the amount, rounded half up; default free),
# and approval: "manual" (finance approves each) or "auto" (approved at once when amount <= the threshold).
WUJI_WITHDRAWAL_MIN_FEN = int(os.environ.get("WUJI_WITHDRAWAL_MIN_FEN", "1000"))
WUJI_WITHDRAWAL_MAX_FEN = int(os.environ.get("WUJI_WITHDRAWAL_MAX_FEN", "5000000"))
WUJI_WITHDRAWAL_COUNT_LIMIT = int(os.environ.get("WUJI_WITHDRAWAL_COUNT_LIMIT", "5"))
WUJI_WITHDRAWAL_PERIOD_DAYS = int(os.environ.get("WUJI_WITHDRAWAL_PERIOD_DAYS", "30"))
WUJI_WITHDRAWAL_FEE_FIXED_FEN = int(os.environ.get("WUJI_WITHDRAWAL_FEE_FIXED_FEN", "0"))
WUJI_WITHDRAWAL_FEE_BPS = int(os.environ.get("WUJI_WITHDRAWAL_FEE_BPS", "0"))
WUJI_WITHDRAWAL_APPROVAL = os.environ.get("WUJI_WITHDRAWAL_APPROVAL", "manual")
WUJI_WITHDRAWAL_AUTO_MAX_FEN = int(os.environ.get("WUJI_WITHDRAWAL_AUTO_MAX_FEN", "100000"))
# Refunds to the original source (原路退回): days after payment each channel still accepts a refund
# ("channel=days,…"; -1 = no limit). A channel not listed (e.g. bank transfer) is paid out to a bank account
# by finance staff. Failed channel calls are retried by a periodic job up to WUJI_REFUND_MAX_ATTEMPTS.
WUJI_REFUND_WINDOW_DAYS = {
    channel.strip(): int(days) for channel, _sep, days in (
        item.partition("=") for item in os.environ.get(
            "WUJI_REFUND_WINDOW_DAYS", "alipay=365,wechat=365,sandbox=-1").split(",") if item.strip())
}
WUJI_REFUND_MAX_ATTEMPTS = int(os.environ.get("WUJI_REFUND_MAX_ATTEMPTS", "10"))

# Finance: fapiao and contracts.
# Smallest fapiao application in fen. There is no statutory minimum (domain-cn §5.2); 数电票 cost nothing to
# send, so the default is ¥0.01. Paper fapiao are posted: their own minimum (default ¥100).
WUJI_FAPIAO_MIN_FEN = int(os.environ.get("WUJI_FAPIAO_MIN_FEN", "1"))
WUJI_FAPIAO_PAPER_MIN_FEN = int(os.environ.get("WUJI_FAPIAO_PAPER_MIN_FEN", "10000"))
# The provider as a contract party (乙方): name, address and unified social credit code (printed if set).
WUJI_COMPANY_NAME = os.environ.get("WUJI_COMPANY_NAME", "赣州武极云计算有限公司")
WUJI_COMPANY_ADDRESS = os.environ.get("WUJI_COMPANY_ADDRESS", "江西省赣州市章贡区")
WUJI_COMPANY_CREDIT_CODE = os.environ.get("WUJI_COMPANY_CREDIT_CODE", "")
# Contract numbers: <prefix>-<year>-<6-digit serial>, e.g. WJ-HT-2026-000001.
WUJI_CONTRACT_NUMBER_PREFIX = os.environ.get("WUJI_CONTRACT_NUMBER_PREFIX", "WJ-HT")


# --- issue 5: metrics
# Node health: how often every compute node's hypervisor is asked for its version and free capacity.
WUJI_NODE_CHECK_SECONDS = int(os.environ.get("WUJI_NODE_CHECK_SECONDS", "60"))
# Server metrics (wuji.compute.metrics, decision 0026): one sample of every running server per interval,
# kept WUJI_METRICS_RETENTION_HOURS (default 7 days), purged hourly WUJI_METRICS_PURGE_BATCH rows at a time.
WUJI_METRICS_INTERVAL_SECONDS = int(os.environ.get("WUJI_METRICS_INTERVAL_SECONDS", "60"))
WUJI_METRICS_RETENTION_HOURS = int(os.environ.get("WUJI_METRICS_RETENTION_HOURS", str(7 * 24)))
WUJI_METRICS_PURGE_BATCH = int(os.environ.get("WUJI_METRICS_PURGE_BATCH", "10000"))
# --- issue 5: push ---------------------------------------------------------------------------------
# Server push (服务器push, 3.2): hours the receiver has to accept an offer. Its fee is a catalogue price
# (catalog.ServiceFee). See docs/decisions/0023-server-push.md.
WUJI_SERVER_PUSH_HOURS = int(os.environ.get("WUJI_SERVER_PUSH_HOURS", "72"))
# --- issue 5: console
# The VNC console proxy (`wuji console-proxy`, docs/decisions/0022): the URL browsers open (behind nginx in
# production: wss://<site>/console-ws/), and the page origins it accepts, comma-separated
# ("https://cloud.example.com"). Empty: any http(s) origin whose host is in ALLOWED_HOSTS.
WUJI_CONSOLE_URL = os.environ.get("WUJI_CONSOLE_URL", "ws://127.0.0.1:6080/")
WUJI_CONSOLE_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("WUJI_CONSOLE_ALLOWED_ORIGINS", "").split(",")
                                if o.strip()]
# --- issue 5: network
# Blackhole (黑洞, 4.5.1 DDoS): how long an attacked server's public IP stays off when no duration is given.
WUJI_BLACKHOLE_HOURS = float(os.environ.get("WUJI_BLACKHOLE_HOURS", "24"))
# Shared token the edge presents to fetch the ICP allow-list (/edge/icp-allowlist.json); unset = no endpoint.
WUJI_EDGE_TOKEN = os.environ.get("WUJI_EDGE_TOKEN", "")

# --- issue 6: backup
# `wuji backup` writes here (a relative path is under the project); `wuji restore` reads any path given.
WUJI_BACKUP_DIR = Path(os.environ.get("WUJI_BACKUP_DIR", VAR_DIR / "backups"))
# Copies each backup file and its manifest to another host, e.g. "rsync {path} backup-host:/srv/wuji/";
# run once per file, split with shlex, no shell; empty = keep local only.
WUJI_BACKUP_COPY_COMMAND = os.environ.get("WUJI_BACKUP_COPY_COMMAND", "")

# --- issue 6: abuserules
# Abuse rules over the collected server metrics (4.5.1.9; wuji.compute.abuse_signals, decision 0035). Per rule:
# `threshold` (mining: CPU %, attack_source: outbound packets/s, attack_target: inbound bits/s), `minutes` the
# window every point must be at or above it, `max_missing_share` of the window's points that may be missing,
# and `action` ("none", "warn", "suspend" or "blackhole") suggested to whoever acts on the signal.
WUJI_ABUSE_RULES = {
    "mining": {"threshold": float(os.environ.get("WUJI_ABUSE_MINING_CPU_PERCENT", "90")),
               "minutes": int(float(os.environ.get("WUJI_ABUSE_MINING_HOURS", "6")) * 60),
               "max_missing_share": 0.05, "action": os.environ.get("WUJI_ABUSE_MINING_ACTION", "warn")},
    "attack_source": {"threshold": float(os.environ.get("WUJI_ABUSE_ATTACK_SOURCE_PPS", "50000")),
                      "minutes": int(os.environ.get("WUJI_ABUSE_ATTACK_MINUTES", "5")),
                      "max_missing_share": 0.0,
                      "action": os.environ.get("WUJI_ABUSE_ATTACK_SOURCE_ACTION", "suspend")},
    "attack_target": {"threshold": float(os.environ.get("WUJI_ABUSE_ATTACK_TARGET_BPS", str(10**9))),
                      "minutes": int(os.environ.get("WUJI_ABUSE_ATTACK_MINUTES", "5")),
                      "max_missing_share": 0.0,
                      "action": os.environ.get("WUJI_ABUSE_ATTACK_TARGET_ACTION", "blackhole")},
}

# --- issue 6: agreements
# Agreement revisions (clause 11, decision 0033): published at least this many days before they take effect
# (never fewer than 7); revision notices go out in batches of this many users per task run. A signed-in
# customer who has not accepted the version in force is sent to the acceptance page (portal) or refused with
# 403 `agreement_not_accepted` (API).
WUJI_AGREEMENT_NOTICE_DAYS = max(7, int(os.environ.get("WUJI_AGREEMENT_NOTICE_DAYS", "7")))
WUJI_AGREEMENT_NOTICE_BATCH = int(os.environ.get("WUJI_AGREEMENT_NOTICE_BATCH", "500"))

# --- issue 6: tickets
# Support tickets (工单, decision 0037): a resolved ticket closes itself after WUJI_TICKET_AUTOCLOSE_DAYS without a
# reply; the customer may reopen a resolved or closed ticket within WUJI_TICKET_REOPEN_DAYS.
WUJI_TICKET_AUTOCLOSE_DAYS = int(os.environ.get("WUJI_TICKET_AUTOCLOSE_DAYS", "7"))
WUJI_TICKET_REOPEN_DAYS = int(os.environ.get("WUJI_TICKET_REOPEN_DAYS", "14"))

# --- issue 6: notify
# Notices (clause 3.6, decision 0032). A failed e-mail/SMS/WeChat delivery is retried after
# RETRY_SECONDS × 4^(tries − 1) until MAX_ATTEMPTS tries; then it is `failed`.
WUJI_NOTICE_MAX_ATTEMPTS = int(os.environ.get("WUJI_NOTICE_MAX_ATTEMPTS", "5"))
WUJI_NOTICE_RETRY_SECONDS = int(os.environ.get("WUJI_NOTICE_RETRY_SECONDS", "60"))
# Quiet hours (免打扰, Asia/Shanghai, HH:MM): marketing messages wait until they end; equal values = none.
WUJI_QUIET_HOURS_START = os.environ.get("WUJI_QUIET_HOURS_START", "21:00")
WUJI_QUIET_HOURS_END = os.environ.get("WUJI_QUIET_HOURS_END", "08:00")
# WeChat official-account (公众号) template messages: off unless APPID, SECRET and a template id are set. Not
# WeChat Pay's WUJI_WECHAT_APPID: the official account may be another app. TEMPLATES maps event codes (or
# "default") to template ids, as "code=id,default=id".
WUJI_WECHAT_MP_APPID = os.environ.get("WUJI_WECHAT_MP_APPID", "")
WUJI_WECHAT_MP_SECRET = os.environ.get("WUJI_WECHAT_MP_SECRET", "")
WUJI_WECHAT_MP_TEMPLATES = dict(pair.strip().split("=", 1)
                                for pair in os.environ.get("WUJI_WECHAT_MP_TEMPLATES", "").split(",") if "=" in pair)
WUJI_WECHAT_MP_API_BASE = os.environ.get("WUJI_WECHAT_MP_API_BASE", "https://api.weixin.qq.com").rstrip("/")
# Where a WeChat notice links to (the portal inbox, e.g. https://cloud.example.com/inbox/); empty = no link.
WUJI_WECHAT_MP_NOTICE_URL = os.environ.get("WUJI_WECHAT_MP_NOTICE_URL", "")

# --- issue 6: status
# Maintenance windows (7.1, decision 0038): the least notice a planned window needs, in hours, by impact
# ("impact=hours,…"); an emergency window with a reason may start at once. Owners are told in batches.
WUJI_MAINTENANCE_NOTICE_HOURS = {
    impact.strip(): int(hours) for impact, _sep, hours in (
        item.partition("=") for item in os.environ.get(
            "WUJI_MAINTENANCE_NOTICE_HOURS", "none=24,brief=24,downtime=72").split(",") if item.strip())
}
WUJI_MAINTENANCE_NOTIFY_BATCH = int(os.environ.get("WUJI_MAINTENANCE_NOTIFY_BATCH", "200"))
# SLA credits (8.5) for plans without their own SlaPolicy: the monthly availability target (%) and the credit
# schedule [[availability below (%), credit (% of the month's fee)], …].
WUJI_SLA_DEFAULT_TARGET = os.environ.get("WUJI_SLA_DEFAULT_TARGET", "99.9")
WUJI_SLA_DEFAULT_SCHEDULE = [[99.9, 10], [99, 25], [95, 100]]

# --- issue 6: icp
# The periodic DNS check of approved ICP filings (wuji.compliance.dns_check, decision 0036): how often, which
# resolver ("host:port"; empty = the system's), the bound on one query (seconds) and the lookups run at once.
WUJI_ICP_DNS_CHECK_HOURS = float(os.environ.get("WUJI_ICP_DNS_CHECK_HOURS", "24"))
WUJI_DNS_RESOLVER = os.environ.get("WUJI_DNS_RESOLVER", "")
WUJI_DNS_TIMEOUT_SECONDS = float(os.environ.get("WUJI_DNS_TIMEOUT_SECONDS", "5"))
WUJI_ICP_DNS_CHECK_WORKERS = int(os.environ.get("WUJI_ICP_DNS_CHECK_WORKERS", "8"))

# --- issue 6: cases
# Abuse cases (wuji.abuse, decision 0034): hours the owner has to respond when staff notify them (shorter for
# phishing and attack sources), and complaints the public form accepts per client IP per hour.
WUJI_ABUSE_OWNER_DEADLINE_HOURS = int(os.environ.get("WUJI_ABUSE_OWNER_DEADLINE_HOURS", "24"))
WUJI_ABUSE_URGENT_DEADLINE_HOURS = int(os.environ.get("WUJI_ABUSE_URGENT_DEADLINE_HOURS", "4"))
WUJI_ABUSE_COMPLAINTS_PER_HOUR = int(os.environ.get("WUJI_ABUSE_COMPLAINTS_PER_HOUR", "5"))
# How often the abuse rules (WUJI_ABUSE_RULES) run over the collected metrics and open cases.
WUJI_ABUSE_SCAN_MINUTES = int(os.environ.get("WUJI_ABUSE_SCAN_MINUTES", "5"))

# --- issue 7: page
# Lists (decision 0043): cursor pages of `?page_size=` rows (50, at most 100), django-filter FilterSets and
# `?ordering=` limited to each view's `ordering_fields`.
INSTALLED_APPS.append("django_filters")
REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = "wuji.api.pagination.CursorPage"
REST_FRAMEWORK["PAGE_SIZE"] = 50
REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] = [
    "wuji.api.filtering.FilterBackend",
    "wuji.api.filtering.StrictOrderingFilter",
]

# --- issue 7: cover
# Enum names for choice sets the coverage endpoints share with older ones (schema warnings otherwise).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["IncidentStatusEnum"] = "wuji.status.choices.IncidentStatus.choices"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["AddressStateEnum"] = "wuji.network.choices.AddressState.choices"

# --- issue 7: conv
# API conventions (docs/decisions/0042-api-conventions.md): request ids on every response, rate limits per API
# key, and the generic Idempotency-Key layer of every mutating API request.
MIDDLEWARE.insert(0, "wuji.core.request_id.RequestIdMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.locale.LocaleMiddleware") + 1,
                  "wuji.api.middleware.ApiConventionsMiddleware")
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["wuji.api.conventions.RateLimit", "wuji.api.conventions.IdempotencyClaim"]
# Requests per fixed window, per API key (per user for session callers, per IP for anonymous ones): "read" is
# GET/HEAD/OPTIONS, "write" the rest. Units: s, min, hour, day ("600/min"); an empty value switches a limit off.
WUJI_API_RATE_LIMITS = {
    "read": os.environ.get("WUJI_API_RATE_LIMIT_READ", "600/min"),
    "write": os.environ.get("WUJI_API_RATE_LIMIT_WRITE", "120/min"),
}
# An idempotency claim still in progress after this long belongs to a worker that died: it may be taken over.
WUJI_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS = int(os.environ.get("WUJI_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS", "300"))
# JSON fields (at any depth) nulled in stored responses: secrets shown once are never kept, nor replayed.
WUJI_IDEMPOTENCY_REDACTED_FIELDS = ("root_password", "password", "secret", "token")
LOGGING.setdefault("filters", {})["request_id"] = {"()": "wuji.core.request_id.RequestIdFilter"}
LOGGING.setdefault("formatters", {})["request_id"] = {
    "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
LOGGING["handlers"]["console"].update(filters=["request_id"], formatter="request_id")

# --- issue 7: auth
# Signed API requests and key scopes (wuji.api.authentication, wuji.api.scopes, decision 0041). Every API view
# checks the key's scope for mutating requests; session requests (the portal) are not scope-limited.
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = [*REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"],
                                                "wuji.api.permissions.ApiKeyScopes"]
SPECTACULAR_SETTINGS["DESCRIPTION"] = (
    "武极云 public API, v1. Every request is signed with an API key (key id + secret, created in the portal): "
    "`Authorization: WUJI-HMAC-SHA256 Credential=<key_id>/<date>/wuji_request, SignedHeaders=…, Signature=…` with "
    "`X-Wuji-Timestamp` and `X-Wuji-Nonce` (see the `wujiSignature` security scheme; the Python SDK `wuji_sdk` "
    "signs for you). Requests more than 5 minutes off the server's clock or reusing a nonce are refused. Every "
    "key reads all of its owner's data; changes need the route's scope (`servers`, `billing` or `account`); a "
    "key may be limited to IP networks and may expire."
)
# The largest signed request body the API reads to verify its hash (uploads: 5 ticket attachments of 10 MB).
WUJI_API_MAX_BODY_BYTES = int(os.environ.get("WUJI_API_MAX_BODY_BYTES", str(64 * 2**20)))
# The shared cache: API nonces (replay protection) and rate limits must be seen by every web process, so
# production uses Redis (WUJI_CACHE_URL=redis://host:6379/0; `wuji check-deploy` refuses a process-local
# cache). Empty: the process's own memory, fine for one process (development, tests).
WUJI_CACHE_URL = os.environ.get("WUJI_CACHE_URL", "")
CACHES = {"default": (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": WUJI_CACHE_URL} if WUJI_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
)}

# --- issue 7: schema
# The schema documents every error an operation can give, the request id and the Idempotency-Key (decision
# 0045); the interactive documentation at /api/docs/ serves Swagger UI from the vendored sidecar package.
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "wuji.api.schema.WujiAutoSchema"
INSTALLED_APPS.append("drf_spectacular_sidecar")
SPECTACULAR_SETTINGS.update({"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR"})
# Tags group the docs by resource (servers, orders, …) rather than all under "v1".
SPECTACULAR_SETTINGS["SCHEMA_PATH_PREFIX"] = r"/api/v1"

# --- issue 8: scale
# Every periodic job's slot length in seconds instead of the job's own interval (wuji.core.scheduler): for the
# scale-out test (scripts/scale_test.py, decision 0051) and staging, so that many slots pass in minutes. 0 or
# empty: each job's own interval. `wuji check-deploy` refuses it.
WUJI_SCHEDULER_SLOT_SECONDS = int(os.environ.get("WUJI_SCHEDULER_SLOT_SECONDS") or 0)

# --- issue 8: faultsmoney
# Persistent connections are checked before a request (or a worker's loop turn) reuses them: after a
# PostgreSQL restart the first request of each process would otherwise fail on its dead connection (0052).
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
