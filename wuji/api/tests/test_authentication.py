"""Signed requests (WUJI-HMAC-SHA256, decision 0041): the algorithm pinned by an independent computation, the
happy path, and each refusal with its stable code."""

import datetime as dt
import hashlib
import hmac
import re
import socket
import time
import uuid

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from wuji.api import services as api_keys
from wuji.api.models import ApiKey
from wuji.api.scopes import Scope
from wuji.api.testing import TEST_HOST, IdempotentAPIClient, SignedAPIClient
from wuji.core import clock
from wuji_sdk import signing

from .conftest import CLIENT_IP, client_for

BALANCE = "/api/v1/balance/"
PROFILE = "/api/v1/account/profile/"
TOPUPS = "/api/v1/topups/"


def new_key(user, **options) -> tuple[ApiKey, str]:
    options.setdefault("scopes", Scope.values)
    return api_keys.create_key(owner=user, name="k", ip=None, **options)


def send(key_id: str, secret: str, method: str, path: str, *, query: str = "", body: bytes = b"",
         content_type: str = "application/json", signed_body: bytes | None = None, signed_query: str | None = None,
         signed_path: str | None = None, sign_content_type: bool = True, idempotency_key: str | None = None,
         signed_idempotency_key: str | None = None, timestamp: int | None = None, remote_addr: str = CLIENT_IP):
    """Sign a request for (signed_path, signed_query, signed_body) and send (path, query, body): a way to
    tamper with a request after it was signed."""
    headers = {"host": TEST_HOST}
    if body and sign_content_type:
        headers["content-type"] = content_type
    if signed_idempotency_key or idempotency_key:
        headers["idempotency-key"] = signed_idempotency_key or idempotency_key
    auth = signing.sign(key_id=key_id, secret=secret, method=method, headers=headers,
                        path=path if signed_path is None else signed_path,
                        query=query if signed_query is None else signed_query,
                        body=body if signed_body is None else signed_body, timestamp=timestamp)
    extra = {"HTTP_AUTHORIZATION": auth["Authorization"], "HTTP_X_WUJI_TIMESTAMP": auth["X-Wuji-Timestamp"],
             "HTTP_X_WUJI_NONCE": auth["X-Wuji-Nonce"], "HTTP_HOST": TEST_HOST, "QUERY_STRING": query}
    if idempotency_key:
        extra["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return APIClient(REMOTE_ADDR=remote_addr).generic(method, path, body, content_type, **extra)


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code, response.json()


# --- the algorithm ---------------------------------------------------------------------------------------

def test_signature_matches_a_vector_computed_step_by_step():
    """The scheme, written out with hashlib/hmac from its description, not with wuji_sdk."""
    secret, timestamp, nonce = "wuji-test-secret", 1767225600, "nonce-0123456789abcdef"  # 2026-01-01 00:00 UTC
    body = b'{"hard":true}'
    canonical_headers = ("content-type:application/json\nhost:api.wuji.example\nidempotency-key:reboot-42\n"
                         f"x-wuji-nonce:{nonce}\nx-wuji-timestamp:{timestamp}\n")
    signed = "content-type;host;idempotency-key;x-wuji-nonce;x-wuji-timestamp"
    canonical = "\n".join(["POST", "/api/v1/servers/42/reboot/", "a=0&a=1&b=2", canonical_headers, signed,
                           hashlib.sha256(body).hexdigest()])
    string_to_sign = "\n".join(["WUJI-HMAC-SHA256", str(timestamp), "2026-01-01/wuji_request",
                                hashlib.sha256(canonical.encode()).hexdigest()])
    day_key = hmac.new(("WUJI" + secret).encode(), b"2026-01-01", hashlib.sha256).digest()
    signing_key = hmac.new(day_key, b"wuji_request", hashlib.sha256).digest()
    expected = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert expected == "f326c4c4ebab14edaa69b66e2f3b6cdef40985dbd4ece6eee9145ec342af038c"

    headers = signing.sign(key_id="AKVECTOR", secret=secret, method="post", path="/api/v1/servers/42/reboot/",
                           query="b=2&a=1&a=0", body=body, timestamp=timestamp, nonce=nonce,
                           headers={"Host": "api.wuji.example", "Content-Type": "application/json",
                                    "Idempotency-Key": "reboot-42"})
    assert headers["Authorization"] == (f"WUJI-HMAC-SHA256 Credential=AKVECTOR/2026-01-01/wuji_request, "
                                        f"SignedHeaders={signed}, Signature={expected}")
    assert headers["X-Wuji-Timestamp"] == str(timestamp) and headers["X-Wuji-Nonce"] == nonce


# --- the happy path -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [BALANCE, "/api/v1/servers/", "/api/v1/catalog/regions/", "/api/v1/instructions/"])
def test_no_signature_is_401_with_the_scheme_as_challenge(db, url):
    response = APIClient().get(url)
    refused(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "WUJI-HMAC-SHA256"


def test_bearer_is_gone(customer):
    key, secret = new_key(customer)
    response = APIClient().get(BALANCE, HTTP_AUTHORIZATION=f"Bearer {key.key_id}.{secret}")
    refused(response, 401, "not_authenticated")


def test_signed_request_authenticates_its_owner_and_records_the_use(api, customer):
    response = api.get(BALANCE, {"currency": "CNY", "x": "a b", "q": "赣州 +%/~", "z": ""})
    assert response.status_code == 200
    assert response.json()["cash_fen"] == 100_00
    key = api_keys.keys_of(customer).get()
    assert key.last_used_at is not None and key.last_used_ip == CLIENT_IP


def test_signed_post_with_body_and_idempotency_key(customer, sandbox):
    key, secret = new_key(customer)
    body = b'{"amount_fen": 100, "channel": "sandbox"}'
    response = send(key.key_id, secret, "POST", TOPUPS, body=body, idempotency_key="topup-1")
    assert response.status_code == 201, response.content


def test_last_used_is_written_at_most_once_a_minute(customer):
    client = client_for(customer)
    key = api_keys.keys_of(customer).get()
    recent = clock.now() - dt.timedelta(seconds=30)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=recent, last_used_ip="192.0.2.1")
    assert client.get(BALANCE).status_code == 200
    key.refresh_from_db()
    assert (key.last_used_at, key.last_used_ip) == (recent, "192.0.2.1")

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=clock.now() - dt.timedelta(seconds=61))
    assert client.get(BALANCE).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at > recent and key.last_used_ip == CLIENT_IP


def test_a_signed_body_larger_than_djangos_memory_limit_is_verified_and_parsed(customer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = client_for(customer)
    response = client.patch(PROFILE, {"city": "赣州", "qq": "1" * 2000}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "qq"  # authenticated, then parsed

    settings.WUJI_API_MAX_BODY_BYTES = 1500
    refused(client.patch(PROFILE, {"city": "赣州", "qq": "1" * 2000}, format="json"), 413, "body_too_large")


def test_a_signed_multipart_upload_above_djangos_memory_limit_arrives_whole(customer, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    content = b"%PDF-1.4 " + b"x" * 5000
    response = client_for(customer).post("/api/v1/tickets/", {
        "category": "billing", "subject": "发票", "body": "请开专票。",
        "files": [SimpleUploadedFile("a.pdf", content, "application/pdf")]}, format="multipart")
    assert response.status_code == 201, response.content
    attachment = response.json()["messages"][0]["attachments"][0]
    assert client_for(customer).get(attachment["url"]).content == content


# --- 401: not proven to come from the key's holder ----------------------------------------------------------

def test_wrong_secret_is_a_signature_mismatch(customer):
    key, _secret = new_key(customer)
    refused(SignedAPIClient(key.key_id, "not-the-secret").get(BALANCE), 401, "signature_mismatch")


def test_tampered_body_is_a_signature_mismatch(customer, sandbox):
    key, secret = new_key(customer)
    response = send(key.key_id, secret, "POST", TOPUPS, body=b'{"amount_fen": 99999, "channel": "sandbox"}',
                    signed_body=b'{"amount_fen": 100, "channel": "sandbox"}', idempotency_key="t-1")
    refused(response, 401, "signature_mismatch")


@pytest.mark.parametrize(("query", "signed_query"), [("limit=50", "limit=1"), ("limit=1&offset=5", "limit=1"),
                                                     ("limit=1", "")])
def test_tampered_query_is_a_signature_mismatch(customer, query, signed_query):
    key, secret = new_key(customer)
    assert send(key.key_id, secret, "GET", "/api/v1/servers/", query=query).status_code == 200
    response = send(key.key_id, secret, "GET", "/api/v1/servers/", query=query, signed_query=signed_query)
    refused(response, 401, "signature_mismatch")


def test_tampered_path_and_signed_header_are_signature_mismatches(customer, sandbox):
    key, secret = new_key(customer)
    refused(send(key.key_id, secret, "GET", "/api/v1/servers/", signed_path=BALANCE), 401, "signature_mismatch")
    response = send(key.key_id, secret, "POST", TOPUPS, body=b'{"amount_fen": 100, "channel": "sandbox"}',
                    idempotency_key="topup-2", signed_idempotency_key="topup-1")
    refused(response, 401, "signature_mismatch")


def test_unsigned_content_type_is_refused(customer, sandbox):
    key, secret = new_key(customer)
    response = send(key.key_id, secret, "POST", TOPUPS, body=b'{"amount_fen": 100, "channel": "sandbox"}',
                    sign_content_type=False, idempotency_key="t-1")
    refused(response, 401, "signature_header_unsigned")
    assert "content-type" in response.json()["message"]


def test_unsigned_host_is_refused(customer):
    key, secret = new_key(customer)
    timestamp, nonce = int(time.time()), uuid.uuid4().hex
    headers = {"x-wuji-timestamp": str(timestamp), "x-wuji-nonce": nonce, "host": TEST_HOST}
    signed = ["x-wuji-nonce", "x-wuji-timestamp"]  # host left out
    canonical = signing.canonical_request(method="GET", path=BALANCE, query="", headers=headers, signed=signed,
                                          body=b"")
    value = signing.signature(secret=secret, timestamp=timestamp, canonical=canonical)
    authorization = (f"WUJI-HMAC-SHA256 Credential={key.key_id}/{signing.day_of(timestamp)}/wuji_request, "
                     f"SignedHeaders={';'.join(signed)}, Signature={value}")
    response = APIClient().get(BALANCE, HTTP_AUTHORIZATION=authorization, HTTP_X_WUJI_TIMESTAMP=str(timestamp),
                               HTTP_X_WUJI_NONCE=nonce)
    refused(response, 401, "signature_header_unsigned")
    assert "host" in response.json()["message"]


def test_unsigned_idempotency_key_is_refused(customer):
    key, secret = new_key(customer)
    auth = signing.sign(key_id=key.key_id, secret=secret, method="GET", path=BALANCE, headers={"host": TEST_HOST})
    response = APIClient().get(BALANCE, HTTP_AUTHORIZATION=auth["Authorization"],
                               HTTP_X_WUJI_TIMESTAMP=auth["X-Wuji-Timestamp"], HTTP_X_WUJI_NONCE=auth["X-Wuji-Nonce"],
                               HTTP_IDEMPOTENCY_KEY="added-after-signing")
    refused(response, 401, "signature_header_unsigned")
    assert "idempotency-key" in response.json()["message"]


@pytest.mark.parametrize("seconds", [-301, 301, -3600, 86400])
def test_timestamp_outside_five_minutes_is_refused(customer, seconds):
    client = client_for(customer)
    client.clock = lambda: int(time.time()) + seconds
    refused(client.get(BALANCE), 401, "timestamp_out_of_window")


@pytest.mark.parametrize("seconds", [-290, 290])
def test_timestamp_within_five_minutes_is_accepted(customer, seconds):
    client = client_for(customer)
    client.clock = lambda: int(time.time()) + seconds
    assert client.get(BALANCE).status_code == 200


def test_replayed_nonce_is_refused(customer, other_customer):
    client = client_for(customer)
    client.nonce = "replayed-nonce-0001"
    assert client.get(BALANCE).status_code == 200
    refused(client.get(BALANCE), 401, "nonce_reused")
    refused(client.get("/api/v1/servers/"), 401, "nonce_reused")  # per key, whatever the request
    other = client_for(other_customer)
    other.nonce = "replayed-nonce-0001"
    assert other.get(BALANCE).status_code == 200  # another key's nonces are its own


@pytest.mark.parametrize(("authorization", "timestamp", "nonce"), [
    ("WUJI-HMAC-SHA256 garbage", None, None),
    ("WUJI-HMAC-SHA256 Credential=AK1/2026-01-01/wuji_request, SignedHeaders=host, Signature=zz", None, None),
    (None, "not-a-number", None),
    (None, "99999999999999999999", None),
    (None, None, "short"),
    (None, None, "has spaces in it, sixteen+"),
])
def test_malformed_signature_parts_are_refused(customer, authorization, timestamp, nonce):
    key, secret = new_key(customer)
    auth = signing.sign(key_id=key.key_id, secret=secret, method="GET", path=BALANCE, headers={"host": TEST_HOST})
    response = APIClient().get(BALANCE, HTTP_AUTHORIZATION=authorization or auth["Authorization"],
                               HTTP_X_WUJI_TIMESTAMP=timestamp or auth["X-Wuji-Timestamp"],
                               HTTP_X_WUJI_NONCE=nonce or auth["X-Wuji-Nonce"])
    refused(response, 401, "signature_malformed")


def test_credential_date_must_be_the_timestamps_day(customer):
    key, secret = new_key(customer)
    auth = signing.sign(key_id=key.key_id, secret=secret, method="GET", path=BALANCE, headers={"host": TEST_HOST})
    wrong_day = auth["Authorization"].replace(signing.day_of(int(auth["X-Wuji-Timestamp"])), "2001-01-01")
    response = APIClient().get(BALANCE, HTTP_AUTHORIZATION=wrong_day, HTTP_X_WUJI_TIMESTAMP=auth["X-Wuji-Timestamp"],
                               HTTP_X_WUJI_NONCE=auth["X-Wuji-Nonce"])
    refused(response, 401, "signature_malformed")


def test_unknown_revoked_and_deactivated_keys_are_refused(customer):
    refused(SignedAPIClient("AKUNKNOWN", "secret").get(BALANCE), 401, "key_invalid")
    client = client_for(customer)
    assert client.get(BALANCE).status_code == 200
    key = api_keys.keys_of(customer).get()
    api_keys.revoke_key(key=key, actor=customer, ip=None)
    refused(client.get(BALANCE), 401, "key_invalid")

    live = client_for(customer)
    type(customer).objects.filter(pk=customer.pk).update(is_active=False)
    refused(live.get(BALANCE), 401, "key_invalid")


def test_legacy_key_is_refused_with_its_own_code(customer):
    client = client_for(customer)
    ApiKey.objects.filter(owner=customer).update(secret_encrypted="")  # as migrated: only a hash was kept
    response = client.get(BALANCE)
    refused(response, 401, "key_legacy")
    assert "创建新密钥" in response.json()["message"]


def test_expired_key_is_refused(customer):
    client = client_for(customer, expires_at=clock.now() + dt.timedelta(days=1))
    assert client.get(BALANCE).status_code == 200
    ApiKey.objects.filter(owner=customer).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    refused(client.get(BALANCE), 401, "key_expired")


# --- 403: the holder signed, but the key may not do this ------------------------------------------------------

@pytest.mark.parametrize(("allowed", "address", "ok"), [
    (["198.51.100.0/24"], "198.51.100.9", True),
    (["198.51.100.0/24"], "203.0.113.7", False),
    (["203.0.113.7/32", "2001:db8::/32"], "203.0.113.7", True),
    (["2001:db8::/32"], "2001:db8::5", True),
    (["2001:db8::/32"], "2001:db9::1", False),
    (["198.51.100.0/24"], "::ffff:198.51.100.9", True),  # IPv4-mapped IPv6
    (["198.51.100.0/24"], "2001:db8::1", False),
])
def test_ip_allow_list(customer, allowed, address, ok):
    key, secret = new_key(customer, allowed_ips=allowed)
    client = SignedAPIClient(key.key_id, secret, REMOTE_ADDR=address)
    response = client.get(BALANCE)
    if ok:
        assert response.status_code == 200
    else:
        refused(response, 403, "ip_not_allowed")


def test_read_only_key_reads_but_may_not_change(customer):
    client = client_for(customer, scopes=())
    assert client.get(BALANCE).status_code == 200
    assert client.get("/api/v1/servers/").status_code == 200
    response = client.patch(PROFILE, {"city": "赣州"}, format="json")
    refused(response, 403, "scope_missing")
    assert "account" in response.json()["message"]
    refused(client.post("/api/v1/servers/999/reboot/", {}, format="json"), 403, "scope_missing")


def test_each_scope_opens_only_its_routes(customer, sandbox):
    billing = client_for(customer, scopes=[Scope.BILLING])
    response = billing.post(TOPUPS, {"amount_fen": 100, "channel": "sandbox"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="t-1")
    assert response.status_code == 201, response.content
    refused(billing.patch(PROFILE, {"city": "赣州"}, format="json"), 403, "scope_missing")
    refused(billing.post("/api/v1/orders/", {}, format="json"), 403, "scope_missing")

    account = client_for(customer, scopes=[Scope.ACCOUNT])
    assert account.patch(PROFILE, {"city": "赣州"}, format="json").status_code == 200
    refused(account.post(TOPUPS, {"amount_fen": 100, "channel": "sandbox"}, format="json"), 403, "scope_missing")


def test_session_requests_are_not_scope_limited(customer):
    client = IdempotentAPIClient()
    client.force_login(customer)
    assert client.patch(PROFILE, {"city": "赣州"}, format="json").status_code == 200


# --- the nonce store on a real Redis ---------------------------------------------------------------------

def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_is_up(), reason="no Redis on 127.0.0.1:6379")
def test_replayed_nonce_is_refused_with_redis_as_the_shared_cache(customer):
    import redis

    prefix = f"wuji-test-{uuid.uuid4().hex}"
    shared = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/15", "KEY_PREFIX": prefix}}
    with override_settings(CACHES=shared):
        from django.core.cache import cache

        client = client_for(customer)
        client.nonce = "redis-nonce-00000001"
        assert client.get(BALANCE).status_code == 200
        key = api_keys.keys_of(customer).get()
        stored = cache.make_key(f"api-nonce:{key.key_id}:{client.nonce}")
        refused(client.get(BALANCE), 401, "nonce_reused")
        assert not api_keys.claim_nonce(key.key_id, client.nonce)
        assert api_keys.claim_nonce(key.key_id, "redis-nonce-00000002")
    server = redis.Redis(host="127.0.0.1", port=6379, db=15)
    try:
        assert api_keys.SIGNATURE_WINDOW_SECONDS * 2 <= server.ttl(stored) <= api_keys.NONCE_TTL_SECONDS
    finally:
        server.delete(*server.keys(f"{prefix}:*"))


def test_schema_needs_no_key(db):
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/servers/{id}/reboot/" in response.content


def test_new_secrets_are_letters_and_digits_of_256_bits(customer):
    """A secret starting with '-' was read by `wuji-cli configure --secret` as an option (a CI failure, 1 in 64)."""
    secrets_made = {new_key(customer)[1] for _ in range(3)}
    assert len(secrets_made) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9]{43}", secret) for secret in secrets_made)
