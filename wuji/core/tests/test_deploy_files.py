"""The files under deploy/ agree with the code: gunicorn loads its settings and the application, every unit
runs a `wuji` command that exists, and nginx sends traffic where the units listen."""

import configparser
import re
import subprocess
import sys
from pathlib import Path

from django.core.management import get_commands

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def test_gunicorn_accepts_its_settings_and_loads_the_application(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "--config", str(DEPLOY / "gunicorn.conf.py"),
         "wuji.wsgi:application"], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "WUJI_VAR_DIR": str(tmp_path), "WEB_CONCURRENCY": "3"})
    assert result.returncode == 0, result.stderr


def test_every_unit_runs_an_existing_wuji_command():
    commands = get_commands()
    units = sorted(path.name for path in (DEPLOY / "systemd").glob("*.service"))
    assert units == ["wuji-console-proxy.service", "wuji-scheduler.service", "wuji-web.service",
                     "wuji-worker@.service"]
    for name in units:
        service = unit(name)["Service"]
        assert service["User"] == "wuji" and service["EnvironmentFile"] == "/etc/wuji/wuji.env"
        for key in ("ExecStartPre", "ExecStart"):
            for subcommand in re.findall(r"/bin/wuji ([a-z-]+)", service.get(key, "")):
                assert subcommand in commands, f"{name} runs `wuji {subcommand}`, which does not exist"
    assert "check-deploy" in unit("wuji-web.service")["Service"]["ExecStartPre"]


def test_nginx_sends_traffic_where_the_services_listen():
    site = (DEPLOY / "nginx" / "wuji.conf").read_text(encoding="utf-8")
    gunicorn = (DEPLOY / "gunicorn.conf.py").read_text(encoding="utf-8")
    console = unit("wuji-console-proxy.service")["Service"]["ExecStart"]
    assert '"127.0.0.1:8000"' in gunicorn and "server 127.0.0.1:8000;" in site
    assert "--port 6080" in console and "server 127.0.0.1:6080;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site  # WUJI_BEHIND_TLS_PROXY trusts this header
    assert "proxy_set_header Upgrade $http_upgrade;" in site  # the console's WebSocket
    env = (DEPLOY / "systemd" / "wuji.env.example").read_text(encoding="utf-8")
    assert "WUJI_CONSOLE_URL=wss://www.example.cn/console-ws/" in env and "location /console-ws/" in site
