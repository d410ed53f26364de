"""A scripted HTTP server on loopback for the SDK's tests: it answers with the responses a test queues, records
what it received, and checks each request's WUJI-HMAC-SHA256 signature the way the platform does."""

from __future__ import annotations

import dataclasses
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from wuji_sdk import signing


@dataclasses.dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    signature_valid: bool

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


class StubServer:
    """`queue(status, body, headers)` the answers in order; the last one is repeated once the queue runs dry."""

    def __init__(self, secret: str = "s3cret"):
        self.secret = secret
        self.answers: list[tuple[int, object, dict]] = []
        self.received: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def queue(self, status: int, body: object = None, headers: dict | None = None) -> StubServer:
        self.answers.append((status, body, headers or {}))
        return self

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_answer(self):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _verify(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> bool:
        parsed = signing.parse_authorization(headers.get("authorization", ""))
        if parsed is None or not set(signing.REQUIRED_HEADERS) <= set(parsed.signed_headers):
            return False
        if any(name in headers and name not in parsed.signed_headers for name in signing.SIGNED_WHEN_PRESENT):
            return False
        timestamp = int(headers[signing.TIMESTAMP_HEADER])
        canonical = signing.canonical_request(method=method, path=path, query=query, headers=headers,
                                              signed=parsed.signed_headers, body=body)
        expected = signing.signature(secret=self.secret, timestamp=timestamp, canonical=canonical)
        return hmac.compare_digest(expected, parsed.signature)

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                body = self.rfile.read(int(headers.get("content-length") or 0))
                stub.received.append(Received(self.command, parts.path, parts.query, headers, body,
                                              stub._verify(self.command, parts.path, parts.query, headers, body)))
                status, payload, extra = stub._next_answer()
                extra = dict(extra)
                data = b"" if payload is None else payload if isinstance(payload, bytes) else json.dumps(
                    payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", extra.pop("Content-Type", "application/json"))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        return Handler
