"""`wuji check-deploy` refuses each unsafe production setting and passes a safe configuration."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from wuji.core import deploy_checks

SAFE = {
    "DEBUG": False,
    "SECRET_KEY": "k" * 20 + "-0123456789abcdefghijklmnopqrstuvwxyz",
    "WUJI_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "ALLOWED_HOSTS": ["www.wuji.example", "api.wuji.example"],
    "WUJI_SANDBOX_PAYMENTS": False,
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "WUJI_SMS_BACKEND": "wuji.accounts.sms.aliyun.AliyunSmsBackend",
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                           "LOCATION": "redis://127.0.0.1:6379/0"}},
}


def settings_found(processes: int = 4, engine: str = "django.db.backends.postgresql", **changes) -> set[str]:
    with override_settings(**(SAFE | changes)):
        return {problem.setting for problem in deploy_checks.problems(processes=processes, engine=engine)}


def test_a_safe_configuration_passes():
    assert settings_found() == set()


@pytest.mark.parametrize(("changes", "setting"), [
    ({"DEBUG": True}, "WUJI_DEBUG"),
    ({"SECRET_KEY": deploy_checks.DEV_SECRET_KEY}, "WUJI_SECRET_KEY"),
    ({"SECRET_KEY": "short-but-random"}, "WUJI_SECRET_KEY"),
    ({"SECRET_KEY": "ab" * 40}, "WUJI_SECRET_KEY"),
    ({"WUJI_ENCRYPTION_KEYS": [deploy_checks.DEV_ENCRYPTION_KEY]}, "WUJI_ENCRYPTION_KEYS"),
    ({"WUJI_ENCRYPTION_KEYS": []}, "WUJI_ENCRYPTION_KEYS"),
    ({"WUJI_ENCRYPTION_KEYS": ["not-a-fernet-key"]}, "WUJI_ENCRYPTION_KEYS"),
    ({"SESSION_COOKIE_SECURE": False}, "WUJI_SECURE_COOKIES"),
    ({"CSRF_COOKIE_SECURE": False}, "WUJI_SECURE_COOKIES"),
    ({"SESSION_COOKIE_HTTPONLY": False}, "SESSION_COOKIE_HTTPONLY"),
    ({"SECURE_HSTS_SECONDS": 0}, "WUJI_HSTS_SECONDS"),
    ({"ALLOWED_HOSTS": ["*"]}, "WUJI_ALLOWED_HOSTS"),
    ({"ALLOWED_HOSTS": ["localhost", "127.0.0.1"]}, "WUJI_ALLOWED_HOSTS"),
    ({"WUJI_SANDBOX_PAYMENTS": True}, "WUJI_SANDBOX_PAYMENTS"),
    ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "WUJI_EMAIL_BACKEND"),
    ({"WUJI_SMS_BACKEND": "wuji.accounts.sms.log.LogSmsBackend"}, "WUJI_SMS_BACKEND"),
    ({"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}, "WUJI_CACHE_URL"),
    ({"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}}, "WUJI_CACHE_URL"),
    ({"WUJI_SCHEDULER_SLOT_SECONDS": 10}, "WUJI_SCHEDULER_SLOT_SECONDS"),
])
def test_each_unsafe_setting_is_refused(changes, setting):
    assert settings_found(**changes) == {setting}


def test_sqlite_is_refused_with_several_processes_only():
    sqlite = "django.db.backends.sqlite3"
    assert settings_found(processes=3, engine=sqlite) == {"DATABASE_URL"}
    assert settings_found(processes=1, engine=sqlite) == set()


def run_command(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wuji.cli", "check-deploy"], env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_command_refuses_the_embedded_default_and_passes_production_settings(tmp_path):
    base = {key: value for key, value in os.environ.items() if not key.startswith(("WUJI_", "DATABASE_URL"))}
    base["WUJI_VAR_DIR"] = str(tmp_path)
    refused = run_command(base)
    assert refused.returncode == 1
    assert "WUJI_SECRET_KEY" in refused.stderr and "DATABASE_URL" in refused.stderr
    assert "WUJI_CACHE_URL" in refused.stderr
    assert "not fit for production" in refused.stderr

    production = base | {
        "WUJI_SECRET_KEY": SAFE["SECRET_KEY"], "WUJI_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://wuji@127.0.0.1:5432/wuji", "WUJI_SECURE_COOKIES": "1",
        "WUJI_HSTS_SECONDS": "31536000", "WUJI_ALLOWED_HOSTS": "www.wuji.example",
        "WUJI_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "WUJI_SMS_BACKEND": "wuji.accounts.sms.aliyun.AliyunSmsBackend", "WUJI_BEHIND_TLS_PROXY": "1",
        "WUJI_CACHE_URL": "redis://127.0.0.1:6379/0",
    }
    passed = run_command(production)
    assert passed.returncode == 0, passed.stderr
    assert "fit for production" in passed.stdout
