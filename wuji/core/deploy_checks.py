"""`wuji check-deploy`: refuse settings that are unsafe in production (decision 0039).

Each check reads the live settings and returns the problems it finds, each naming the setting (or the
environment variable that feeds it) and what to do. The embedded default (SQLite, debug-free but with
development secrets and plain-HTTP cookies) fails on purpose: it is for one machine and a demo.
"""

import dataclasses

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

DEV_SECRET_KEY = "dev-insecure-wuji-secret-key-change-me-in-production"
DEV_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLXd1amktZW5jcnlwdGlvbi1rZXk="
DEV_HOSTS = {"127.0.0.1", "localhost", "testserver", "::1"}
TOY_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
# Caches that each process keeps to itself (or that keep nothing): API nonces and rate limits would not be shared
# between web processes, so a request refused as a replay by one would be accepted by another.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


@dataclasses.dataclass(frozen=True)
class Problem:
    setting: str
    message: str


def _debug() -> list[Problem]:
    if settings.DEBUG:
        return [Problem("WUJI_DEBUG", "debug is on: tracebacks and settings leak to visitors; unset WUJI_DEBUG")]
    return []


def _secret_key() -> list[Problem]:
    key = settings.SECRET_KEY
    if key == DEV_SECRET_KEY:
        return [Problem("WUJI_SECRET_KEY", "the development secret key is in use; set a random one of 50+ chars")]
    if len(key) < 50 or len(set(key)) < 5:
        return [Problem("WUJI_SECRET_KEY", "the secret key is too short or too simple (50+ random characters)")]
    return []


def _encryption_keys() -> list[Problem]:
    keys = settings.WUJI_ENCRYPTION_KEYS
    if not keys or DEV_ENCRYPTION_KEY in keys:
        return [Problem("WUJI_ENCRYPTION_KEYS", "the development encryption key is in use: ID numbers, documents and "
                                                "API secrets would be readable by anyone with the source; generate "
                                                "one with `python -c 'from cryptography.fernet import Fernet; "
                                                "print(Fernet.generate_key().decode())'`")]
    problems = []
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            problems.append(Problem("WUJI_ENCRYPTION_KEYS", f"key #{position} is not a valid Fernet key"))
    return problems


def _database(processes: int, engine: str) -> list[Problem]:
    if engine == "django.db.backends.sqlite3" and processes > 1:
        return [Problem("DATABASE_URL", f"SQLite with {processes} processes writing (web workers, task workers, "
                                        "scheduler): use PostgreSQL (DATABASE_URL=postgres://…)")]
    return []


def _cache() -> list[Problem]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PROCESS_LOCAL_CACHES:
        return [Problem("WUJI_CACHE_URL", f"the cache ({backend.rsplit('.', 1)[-1]}) is not shared between web "
                                          "processes: API nonces (replay protection) and rate limits would be "
                                          "per process; set WUJI_CACHE_URL=redis://127.0.0.1:6379/0")]
    return []


def _cookies_and_https() -> list[Problem]:
    problems = []
    if not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        problems.append(Problem("WUJI_SECURE_COOKIES", "session and CSRF cookies would travel over plain HTTP; "
                                                       "set WUJI_SECURE_COOKIES=1 behind TLS"))
    if not settings.SESSION_COOKIE_HTTPONLY:
        problems.append(Problem("SESSION_COOKIE_HTTPONLY", "the session cookie is readable by scripts"))
    if settings.SECURE_HSTS_SECONDS < 86400:
        problems.append(Problem("WUJI_HSTS_SECONDS", "HSTS is off or shorter than a day; set WUJI_HSTS_SECONDS "
                                                     "(e.g. 31536000) once the site is served only over TLS"))
    return problems


def _hosts() -> list[Problem]:
    hosts = set(settings.ALLOWED_HOSTS)
    if "*" in hosts:
        return [Problem("WUJI_ALLOWED_HOSTS", "'*' accepts any Host header; list the site's host names")]
    if not hosts - DEV_HOSTS:
        return [Problem("WUJI_ALLOWED_HOSTS", "only local host names are allowed; list the site's host names")]
    return []


def _channels() -> list[Problem]:
    problems = []
    if settings.WUJI_SANDBOX_PAYMENTS:
        problems.append(Problem("WUJI_SANDBOX_PAYMENTS", "the payment sandbox credits balances without money; "
                                                         "unset it"))
    if settings.EMAIL_BACKEND in TOY_EMAIL_BACKENDS:
        problems.append(Problem("WUJI_EMAIL_BACKEND", "e-mail is not sent (legal notices must be delivered); use "
                                                      "django.core.mail.backends.smtp.EmailBackend"))
    if settings.WUJI_SMS_BACKEND.endswith(".LogSmsBackend"):
        problems.append(Problem("WUJI_SMS_BACKEND", "SMS only goes to the log: verification codes and notices "
                                                    "are not delivered; configure Aliyun or Tencent SMS"))
    return problems


def _scheduler() -> list[Problem]:
    if getattr(settings, "WUJI_SCHEDULER_SLOT_SECONDS", 0):
        return [Problem("WUJI_SCHEDULER_SLOT_SECONDS", "every periodic job runs on the same short test slot instead "
                                                       "of its own interval; unset it")]
    return []


def _django_deploy_checks() -> list[Problem]:
    """Django's own `check --deploy` findings that are errors or warnings, except those we check above and
    W008 (SECURE_SSL_REDIRECT): nginx redirects plain HTTP before Django sees it (deploy/nginx); W005 and W021
    (HSTS for subdomains, preload list): the operator's choice for the whole domain, not the platform's."""
    ours = {"security.W004", "security.W005", "security.W008", "security.W009", "security.W010", "security.W011",
            "security.W012", "security.W013", "security.W014", "security.W015", "security.W016", "security.W018",
            "security.W020", "security.W021"}
    found = checks.run_checks(include_deployment_checks=True)
    return [Problem(message.id or "django", message.msg) for message in found
            if message.level >= checks.WARNING and message.id not in ours]


def problems(*, processes: int, engine: str | None = None) -> list[Problem]:
    """Every unsafe production setting; empty when the configuration may serve customers. `processes` is how
    many processes will write to the database (web workers + task workers + schedulers); `engine` is the
    database engine (default: the configured one)."""
    engine = engine or settings.DATABASES["default"]["ENGINE"]
    return (_debug() + _secret_key() + _encryption_keys() + _database(processes, engine) + _cache()
            + _cookies_and_https() + _hosts() + _channels() + _scheduler() + _django_deploy_checks())
