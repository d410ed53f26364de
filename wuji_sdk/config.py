"""Profiles: named sets of endpoint, key id and secret in `~/.config/wuji/credentials` (INI, mode 0600).

`WUJI_CONFIG_DIR` moves the directory; `WUJI_PROFILE` picks the profile when `--profile` is not given;
`WUJI_ENDPOINT`, `WUJI_KEY_ID` and `WUJI_SECRET` override the profile's values (for CI, where no file is wanted).
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import tempfile
from pathlib import Path

DEFAULT_PROFILE = "default"
FIELDS = ("endpoint", "key_id", "secret", "language")
_ENVIRONMENT = {"endpoint": "WUJI_ENDPOINT", "key_id": "WUJI_KEY_ID", "secret": "WUJI_SECRET",
                "language": "WUJI_LANGUAGE"}


@dataclasses.dataclass
class Profile:
    name: str
    endpoint: str = ""
    key_id: str = ""
    secret: str = ""
    language: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.endpoint and self.key_id and self.secret)


def config_dir() -> Path:
    return Path(os.environ.get("WUJI_CONFIG_DIR") or Path.home() / ".config" / "wuji")


def credentials_path() -> Path:
    return config_dir() / "credentials"


def profile_name(explicit: str | None = None) -> str:
    return explicit or os.environ.get("WUJI_PROFILE") or DEFAULT_PROFILE


def _read() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(credentials_path(), encoding="utf-8")
    return parser


def load(name: str | None = None, *, environment: bool = True) -> Profile:
    """The profile as stored, with the WUJI_* environment variables on top (unless `environment` is False)."""
    name = profile_name(name)
    parser = _read()
    stored = dict(parser[name]) if parser.has_section(name) else {}
    values = {field: stored.get(field, "") for field in FIELDS}
    if environment:
        values.update({field: os.environ[var] for field, var in _ENVIRONMENT.items() if os.environ.get(var)})
    return Profile(name=name, **values)


def save(profile: Profile) -> Path:
    """Write the profile, keeping the others. The file is replaced atomically and is never readable by others
    (the secret signs requests: whoever reads it acts as the account)."""
    parser = _read()
    if not parser.has_section(profile.name):
        parser.add_section(profile.name)
    for field in FIELDS:
        value = getattr(profile, field)
        if value:
            parser[profile.name][field] = value
        else:
            parser.remove_option(profile.name, field)
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")  # created 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            parser.write(stream)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
