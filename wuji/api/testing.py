"""Test clients that send an Idempotency-Key with every mutating request, and one that also signs every request
with an API key (WUJI-HMAC-SHA256), as the SDK does."""

import uuid
from urllib.parse import urlsplit

from rest_framework.test import APIClient

from wuji_sdk import signing

TEST_HOST = "testserver"


MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def with_idempotency_key(method: str, extra: dict) -> dict:
    """A fresh key on a mutating request that names none, as the SDK does; a test that passes
    HTTP_IDEMPOTENCY_KEY="" sends no header at all (to see the refusal)."""
    if method.upper() in MUTATING_METHODS and "HTTP_IDEMPOTENCY_KEY" not in extra:
        extra["HTTP_IDEMPOTENCY_KEY"] = f"test-{uuid.uuid4()}"
    if not extra.get("HTTP_IDEMPOTENCY_KEY"):
        extra.pop("HTTP_IDEMPOTENCY_KEY", None)
    return extra


class IdempotentAPIClient(APIClient):
    """DRF's test client, adding an Idempotency-Key to mutating requests that do not choose their own."""

    def generic(self, method, path, data="", content_type="application/octet-stream", secure=False, **extra):
        return super().generic(method, path, data, content_type, secure, **with_idempotency_key(method, extra))


class SignedAPIClient(APIClient):
    """DRF's test client, signing each request with `key_id` and `secret` just before it is sent.

    `clock` (a callable returning unix seconds) and `nonce` let a test sign with a stale timestamp or a reused
    nonce."""

    def __init__(self, key_id: str, secret: str, **defaults):
        super().__init__(**defaults)
        self.key_id, self.secret = key_id, secret
        self.clock = None
        self.nonce = None

    def generic(self, method, path, data="", content_type="application/octet-stream", secure=False, **extra):
        extra = with_idempotency_key(method, extra)
        body = data.encode() if isinstance(data, str) else (data or b"")
        extra.setdefault("HTTP_HOST", TEST_HOST)
        headers = {"host": extra["HTTP_HOST"]}
        if content_type is not None and body:
            headers["content-type"] = str(content_type)
        if extra.get("HTTP_IDEMPOTENCY_KEY"):
            headers["idempotency-key"] = extra["HTTP_IDEMPOTENCY_KEY"]
        parts = urlsplit(path)
        signed = signing.sign(key_id=self.key_id, secret=self.secret, method=method, path=parts.path,
                              query=extra.get("QUERY_STRING") or parts.query, headers=headers, body=body,
                              timestamp=self.clock() if self.clock else None, nonce=self.nonce)
        extra["HTTP_AUTHORIZATION"] = signed["Authorization"]
        extra["HTTP_X_WUJI_TIMESTAMP"] = signed["X-Wuji-Timestamp"]
        extra["HTTP_X_WUJI_NONCE"] = signed["X-Wuji-Nonce"]
        return super().generic(method, path, data, content_type, secure, **extra)
