"""A test client that signs every request with an API key (WUJI-HMAC-SHA256), as the SDK does."""

from urllib.parse import urlsplit

from rest_framework.test import APIClient

from wuji_sdk import signing

TEST_HOST = "testserver"


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
