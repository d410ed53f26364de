"""Channel keys from settings: PEM text, or the path of a PEM file."""

from pathlib import Path

from .base import GatewayError


def pem(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise GatewayError("key not configured")
    if value.startswith("-----BEGIN"):
        return value
    try:
        return Path(value).read_text()
    except OSError as exc:
        raise GatewayError(f"cannot read key file {value}: {exc}") from None
