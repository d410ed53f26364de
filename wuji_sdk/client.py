"""The Wuji Cloud API client: signed requests, safe retries, errors as exceptions, pages as iterators.

    from wuji_sdk import Client
    client = Client("https://api.wuji.example", "AK…", "secret")
    for server in client.list_servers():
        print(server["id"], server["name"])
    client.reboot_server(42, hard=True)
    client.call("servers_reinstall_create", id=42, image="debian-12")

Every request is signed (WUJI-HMAC-SHA256, `wuji_sdk.signing`) afresh on each attempt: a new timestamp and a new
nonce, which the server never accepts twice. Every mutating request carries an Idempotency-Key, the same on
each retry, so a retried purchase or reboot happens once. Connection failures, 5xx and 429 are retried with
capped exponential backoff (429 and 503 wait as long as Retry-After asks, up to `max_retry_after`); other 4xx
are the caller's to fix and are raised at once.
"""

from __future__ import annotations

import dataclasses
import email.utils
import http.client
import json
import random
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPErrorProcessor, Request, build_opener

from . import __version__, signing
from .errors import ApiError, ConnectionFailed, error_class
from .schema import IDEMPOTENCY_HEADER, MUTATING_METHODS, Schema, bundled

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REQUEST_ID_HEADER = "X-Request-Id"

# Operation ids behind the friendly methods (and the CLI): a test checks each is in the shipped schema.
SERVERS_LIST = "servers_list"
SERVERS_GET = "servers_retrieve"
SERVERS_START = "servers_start_create"
SERVERS_STOP = "servers_stop_create"
SERVERS_REBOOT = "servers_reboot_create"
SERVERS_REINSTALL = "servers_reinstall_create"
BALANCE = "balance_retrieve"
TRANSACTIONS_LIST = "transactions_list"
ORDERS_LIST = "orders_list"
ORDERS_GET = "orders_retrieve"
ORDERS_CREATE = "orders_create"
TOPUPS_LIST = "topups_list"
TOPUPS_GET = "topups_retrieve"
TOPUPS_CREATE = "topups_create"
OPERATIONS_USED = (SERVERS_LIST, SERVERS_GET, SERVERS_START, SERVERS_STOP, SERVERS_REBOOT, SERVERS_REINSTALL,
                   BALANCE, TRANSACTIONS_LIST, ORDERS_LIST, ORDERS_GET, ORDERS_CREATE, TOPUPS_LIST, TOPUPS_GET,
                   TOPUPS_CREATE)


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def data(self):
        """The decoded JSON (None for an empty body); text for other content types (e.g. the CSV export)."""
        if not self.body:
            return None
        if "json" in self.headers.get("content-type", "application/json"):
            return json.loads(self.body)
        return self.body.decode("utf-8-sig", errors="replace")


class _KeepErrors(HTTPErrorProcessor):
    """Hand every status back as a response: the client decides what is an error."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class Client:
    """A Wuji Cloud API client for one access key.

    `endpoint` is the API's origin (`https://api.wuji.example`); `language` ("zh-hans", "en") picks the
    language of error messages; `retries` is how many times a failed attempt is repeated; `schema` defaults to
    the snapshot shipped with the SDK."""

    def __init__(self, endpoint: str, key_id: str, secret: str, *, timeout: float = 30.0, retries: int = 3,
                 language: str | None = None, schema: Schema | None = None, backoff: float = 0.5,
                 max_backoff: float = 8.0, max_retry_after: float = 60.0, user_agent: str | None = None):
        parts = urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"endpoint must be an http(s) URL, not {endpoint!r}")
        self.endpoint, self.host, self.prefix = f"{parts.scheme}://{parts.netloc}", parts.netloc, parts.path
        self.key_id, self.secret = key_id, secret
        self.timeout, self.retries, self.language = timeout, max(0, retries), language
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.user_agent = user_agent or f"wuji-sdk-python/{__version__}"
        self._schema = schema
        self._opener = build_opener(_KeepErrors)
        self.sleep = time.sleep  # a test may replace it

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            self._schema = bundled()
        return self._schema

    # --- Requests ---------------------------------------------------------------------------------------

    def call(self, operation_id: str, /, *, _body: dict | None = None, _idempotency_key: str | None = None,
             **params):
        """Call any operation of the schema by its id: each keyword is a path parameter, a query parameter or
        a JSON body field (`_body` gives the whole body). Returns the decoded response."""
        built = self.schema.build(operation_id, params, _body)
        return self.request(built.method, built.path, query=built.query, body=built.body,
                            idempotency_key=_idempotency_key).data

    def paginate(self, operation_id: str, /, **params) -> Iterator:
        """Every item of a list operation, page after page (cursor pages: follows `next` until it is null)."""
        built = self.schema.build(operation_id, params)
        page = self.request(built.method, built.path, query=built.query).data
        while True:
            if isinstance(page, list):  # an unpaginated list
                yield from page
                return
            if not isinstance(page, dict) or "results" not in page:  # not a list operation: the one object
                if page is not None:
                    yield page
                return
            yield from page["results"]
            if not page.get("next"):
                return
            page = self.request("GET", page["next"]).data

    def request(self, method: str, path: str, *, query=None, body=None, idempotency_key: str | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send a request (retrying as the module says) and return the response, or raise `ApiError`.

        `path` may be a full URL (a `next` link): its path and query are sent to this client's endpoint."""
        method = method.upper()
        parts = urlsplit(path)
        path = parts.path if parts.netloc else self.prefix + parts.path
        query_string = "&".join(q for q in (parts.query, urlencode(query or [], doseq=True)) if q)
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        fixed = {"Host": self.host, "Accept": "application/json", "User-Agent": self.user_agent, **(headers or {})}
        if self.language:
            fixed["Accept-Language"] = self.language
        if body is not None:
            fixed["Content-Type"] = "application/json"
        if method in MUTATING_METHODS:
            fixed[IDEMPOTENCY_HEADER] = idempotency_key or str(uuid.uuid4())  # one key for all the attempts
        attempt = 0
        while True:
            try:
                response = self._send(method, path, query_string, fixed, payload)
            except ConnectionFailed:
                if attempt >= self.retries:
                    raise
                delay = self._backoff(attempt)
            else:
                if response.status < 400:
                    return response
                error = _error_from(response)
                if response.status not in RETRY_STATUSES or attempt >= self.retries:
                    raise error
                delay = self._backoff(attempt)
                if error.retry_after is not None:
                    if error.retry_after > self.max_retry_after:
                        raise error  # asked to wait longer than a caller would want to block
                    delay = max(delay, error.retry_after)
            attempt += 1
            self.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with jitter so that many clients do not retry in step."""
        return min(self.max_backoff, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)

    def authorization_headers(self, *, method: str, path: str, query: str, headers: dict[str, str],
                              body: bytes) -> dict[str, str]:
        """The headers that authenticate one attempt: a fresh WUJI-HMAC-SHA256 signature."""
        return signing.sign(key_id=self.key_id, secret=self.secret, method=method, path=path, query=query,
                            headers=headers, body=body)

    def _send(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Response:
        signed = self.authorization_headers(method=method, path=path, query=query, headers=headers, body=body)
        url = self.endpoint + path + (f"?{query}" if query else "")
        # No body: data None, or urllib would add an unsigned form Content-Type (http.client sends Content-Length 0)
        request = Request(url, data=body or None, method=method, headers={**headers, **signed})
        try:
            with self._opener.open(request, timeout=self.timeout) as raw:
                return Response(status=raw.status, headers={k.lower(): v for k, v in raw.headers.items()},
                                body=raw.read())
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets are all OSError
            reason = getattr(exc, "reason", None) or exc
            raise ConnectionFailed(f"cannot reach {self.endpoint}: {reason}", code="network_error") from exc

    # --- Servers ------------------------------------------------------------------------------------------

    def list_servers(self, **filters) -> Iterator[dict]:
        return self.paginate(SERVERS_LIST, **filters)

    def get_server(self, server_id: int) -> dict:
        return self.call(SERVERS_GET, id=server_id)

    def start_server(self, server_id: int) -> dict:
        return self.call(SERVERS_START, id=server_id)

    def stop_server(self, server_id: int) -> dict:
        return self.call(SERVERS_STOP, id=server_id)

    def reboot_server(self, server_id: int, *, hard: bool = False) -> dict:
        return self.call(SERVERS_REBOOT, id=server_id, hard=hard)

    def reinstall_server(self, server_id: int, *, image: str, ssh_key: str | None = None,
                         root_password: bool = True) -> dict:
        """Wipes the disk. The new root password (when asked for) is in the answer, this once."""
        fields = {"image": image, "root_password": root_password, **({"ssh_key": ssh_key} if ssh_key else {})}
        return self.call(SERVERS_REINSTALL, id=server_id, **fields)

    # --- Money ----------------------------------------------------------------------------------------------

    def balance(self) -> dict:
        return self.call(BALANCE)

    def list_transactions(self, **filters) -> Iterator[dict]:
        return self.paginate(TRANSACTIONS_LIST, **filters)

    def list_orders(self, **filters) -> Iterator[dict]:
        return self.paginate(ORDERS_LIST, **filters)

    def get_order(self, order_id: int) -> dict:
        return self.call(ORDERS_GET, id=order_id)

    def create_order(self, *, idempotency_key: str | None = None, **fields) -> dict:
        """Buy a server (region, plan, image, cycle, name). Pass your own `idempotency_key` to make a retry
        after a crash of your program safe too."""
        return self.call(ORDERS_CREATE, _idempotency_key=idempotency_key, **fields)

    def list_topups(self, **filters) -> Iterator[dict]:
        return self.paginate(TOPUPS_LIST, **filters)

    def get_topup(self, out_trade_no: str) -> dict:
        return self.call(TOPUPS_GET, out_trade_no=out_trade_no)

    def create_topup(self, *, amount_fen: int, channel: str, idempotency_key: str | None = None) -> dict:
        return self.call(TOPUPS_CREATE, _idempotency_key=idempotency_key, amount_fen=amount_fen, channel=channel)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_from(response: Response) -> ApiError:
    try:
        body = json.loads(response.body) if response.body else None
    except ValueError:
        body = None
    fields = body if isinstance(body, dict) else {}
    text = response.body[:200].decode("utf-8", errors="replace").strip()
    message = str(fields.get("message") or text or f"HTTP {response.status}")
    return error_class(response.status)(
        message, status=response.status, code=fields.get("code"), field=fields.get("field"),
        request_id=fields.get("request_id") or response.headers.get(REQUEST_ID_HEADER.lower()), body=body,
        retry_after=_retry_after(response.headers.get("retry-after")),
    )
