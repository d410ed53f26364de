"""Helpers for the sign-in tests: codes from the outboxes, RFC 6238 TOTP, a customer with a phone."""

import base64
import hashlib
import hmac
import re
import struct
import time

from django.core import mail

from wuji.accounts import otp
from wuji.accounts.sms import log as sms_log
from wuji.core import testing


def totp(secret_b32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 (HMAC-SHA1, 30-second steps), as an authenticator app computes it."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def last_sms_code(phone: str) -> str:
    testing.run_tasks()
    for message in reversed(sms_log.outbox):
        if message.phone == phone:
            return message.params["code"]
    raise AssertionError(f"no SMS to {phone}")


def last_mail_code(email: str) -> str:
    testing.run_tasks()
    for message in reversed(mail.outbox):
        if email in message.to:
            found = re.search(r"\b(\d{6})\b", message.subject + message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no code mailed to {email}")


def customer_with_phone(email: str, phone: str, **kwargs):
    """A customer registered with a verified mainland mobile, through the registration service."""
    from wuji.accounts import services as accounts
    from wuji.agreements import services as agreements

    otp.issue_code(purpose="register", channel="sms", address=phone, ip="192.0.2.1")
    code = last_sms_code(otp.normalise_address("sms", phone))
    return accounts.register_customer(email=email, password=testing.PASSWORD, ip="192.0.2.1",
                                      accepted_version=agreements.current_version().version, phone=phone,
                                      phone_code=code, **kwargs)


def enable_totp(user) -> str:
    """Turn on TOTP for the user through allauth.mfa; returns the base32 secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret
