"""Django settings for Wuji Cloud.

Operator configuration comes from environment variables (12-factor) with safe embedded defaults that
run the platform on one machine with SQLite. `wuji check-deploy` (later) refuses unsafe production values.
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
    "wuji.audit",
    "wuji.notifications",
    "wuji.api",
    "wuji.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
LOGIN_URL = "portal:login"
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
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "wuji.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wuji Cloud API",
    "DESCRIPTION": "武极云 public API, v1. Authenticate with `Authorization: Bearer <key_id>.<secret>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
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

# E-mail: console by default (the demo prints mails); SMTP in production via EMAIL_* variables.
EMAIL_BACKEND = os.environ.get("WUJI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("WUJI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("WUJI_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("WUJI_DEFAULT_FROM_EMAIL", "武极云 <noreply@wuji.local>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WUJI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
