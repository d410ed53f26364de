"""WeChat official-account template messages (微信公众号模板消息): the `wechat` notice channel.

Off unless WUJI_WECHAT_MP_APPID, WUJI_WECHAT_MP_SECRET and a template id (WUJI_WECHAT_MP_TEMPLATES, by event code
or "default") are set. The access token (valid 7200 s) is fetched from `/cgi-bin/token` and cached until
shortly before it expires; a token WeChat reports invalid or expired is dropped and fetched once more.
The base URL is a setting so tests talk to a loopback server.
"""

import json

import requests
from django.conf import settings
from django.core.cache import cache

from wuji.core import clock

TIMEOUT_SECONDS = 10
EXPIRY_MARGIN_SECONDS = 300
# errcodes meaning "this access token is no longer good": invalid credential, token expired, token missing.
STALE_TOKEN_ERRCODES = {40001, 40014, 41001, 42001}
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class WechatError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"wechat errcode {errcode}: {errmsg}")
        self.errcode = errcode


def template_for(event: str) -> str:
    templates = settings.WUJI_WECHAT_MP_TEMPLATES
    return templates.get(event) or templates.get("default", "")


def is_enabled_for(event: str) -> bool:
    return bool(settings.WUJI_WECHAT_MP_APPID and settings.WUJI_WECHAT_MP_SECRET and template_for(event))


def _token_cache_key() -> str:
    return f"wuji:wechat:access_token:{settings.WUJI_WECHAT_MP_APPID}"


def _checked(response: requests.Response) -> dict:
    response.raise_for_status()
    payload = response.json()
    if payload.get("errcode"):
        raise WechatError(int(payload["errcode"]), str(payload.get("errmsg", "")))
    return payload


def access_token() -> str:
    token = cache.get(_token_cache_key())
    if token:
        return token
    payload = _checked(requests.get(f"{settings.WUJI_WECHAT_MP_API_BASE}/cgi-bin/token", timeout=TIMEOUT_SECONDS,
                                    params={"grant_type": "client_credential", "appid": settings.WUJI_WECHAT_MP_APPID,
                                            "secret": settings.WUJI_WECHAT_MP_SECRET}))
    token = payload["access_token"]
    cache.set(_token_cache_key(), token, max(60, int(payload.get("expires_in", 7200)) - EXPIRY_MARGIN_SECONDS))
    return token


def send_template(openid: str, template_id: str, data: dict[str, str], url: str = "") -> int:
    """Send one template message; returns WeChat's msgid. Raises WechatError or requests exceptions."""
    body = {"touser": openid, "template_id": template_id, "data": {k: {"value": v} for k, v in data.items()}}
    if url:
        body["url"] = url
    encoded = json.dumps(body, ensure_ascii=False).encode()  # Chinese as UTF-8, not \u escapes
    for retry in (False, True):
        try:
            payload = _checked(requests.post(f"{settings.WUJI_WECHAT_MP_API_BASE}/cgi-bin/message/template/send",
                                             params={"access_token": access_token()}, data=encoded,
                                             headers=JSON_HEADERS, timeout=TIMEOUT_SECONDS))
        except WechatError as exc:
            if exc.errcode in STALE_TOKEN_ERRCODES and not retry:
                cache.delete(_token_cache_key())
                continue
            raise
        return int(payload.get("msgid", 0))
    raise AssertionError("unreachable")  # pragma: no cover


def send_notice(notice, openid: str) -> str:
    """The `wechat` channel: subject, the start of the text and the time sent, linking to the inbox."""
    msgid = send_template(openid, template_for(notice.event), {
        "first": notice.subject,
        "keyword1": notice.body[:200],
        "keyword2": f"{notice.created_at.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}",
    }, url=settings.WUJI_WECHAT_MP_NOTICE_URL)
    return f"msgid {msgid}"
