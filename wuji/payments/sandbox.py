"""The sandbox gateway: a demo payment channel that moves no real money, clearly labelled as such.

It behaves like a real channel where it matters: the "gateway" signs its payment notice
(HMAC-SHA256 over the canonical parameters with a shared secret) and the platform verifies the
signature and the amount before crediting anything. Off unless settings.WUJI_SANDBOX_PAYMENTS.
"""

import hashlib
import hmac

from django.conf import settings


def canonical(params: dict[str, str]) -> bytes:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] != "").encode()


def sign(params: dict[str, str]) -> str:
    return hmac.new(settings.WUJI_SANDBOX_SECRET.encode(), canonical(params), hashlib.sha256).hexdigest()


def verify(params: dict[str, str]) -> bool:
    signature = params.get("sign", "")
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters, and a forged signature may
    # have any.
    return bool(signature) and hmac.compare_digest(signature.encode(), sign(params).encode())


def enabled() -> bool:
    return bool(settings.WUJI_SANDBOX_PAYMENTS)
