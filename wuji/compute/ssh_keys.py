"""SSH public keys a customer gives for a reinstall (SSH 密钥登录): checked before they reach a guest.

A key is one OpenSSH line, ``<type> <base64 body> [comment]``. The body is the wire-format key blob,
whose first field repeats the type; checking that catches pasted private keys, truncated bodies and keys
of another type. Only the fingerprint (``SHA256:…``, as ``ssh-keygen -l`` prints it) goes into the
instruction log: a public key is not secret, but it identifies a person and is long.
"""

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from django.utils.translation import gettext as _

KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
MAX_LINE_CHARS = 8192  # a 16384-bit RSA key is about 2.8 kB; nothing legitimate comes near this
MAX_COMMENT_CHARS = 200
MIN_RSA_BITS = 2048


class InvalidKey(ValueError):
    """The text is not an acceptable SSH public key; the message is for the customer."""


@dataclass(frozen=True)
class PublicKey:
    line: str  # normalised: type, body and comment separated by single spaces
    key_type: str
    fingerprint: str


def parse(text: str) -> PublicKey:
    """Check one OpenSSH public key line and return it normalised with its fingerprint."""
    text = " ".join(text.split())
    if not text:
        raise InvalidKey(_("请粘贴 SSH 公钥。"))
    if len(text) > MAX_LINE_CHARS:
        raise InvalidKey(_("SSH 公钥过长。"))
    if "PRIVATE KEY" in text:
        raise InvalidKey(_("这是私钥，请粘贴公钥（.pub 文件的内容），并妥善保管私钥。"))
    key_type, _sep, rest = text.partition(" ")
    body, _sep, comment = rest.partition(" ")
    if key_type not in KEY_TYPES:
        raise InvalidKey(_("不支持的 SSH 公钥类型，请使用 ssh-ed25519、ssh-rsa 或 ecdsa。"))
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidKey(_("SSH 公钥的注释过长。"))
    blob = _decode(body)
    fields = _fields(blob)
    if not fields or fields[0] != key_type.encode():
        raise InvalidKey(_("SSH 公钥内容与其类型不符。"))
    if key_type == "ssh-rsa" and _rsa_bits(fields) < MIN_RSA_BITS:
        raise InvalidKey(_("RSA 公钥至少需要 %(bits)s 位。") % {"bits": MIN_RSA_BITS})
    return PublicKey(line=text, key_type=key_type, fingerprint=fingerprint(blob))


def fingerprint(blob: bytes) -> str:
    """The SHA-256 fingerprint in OpenSSH's notation (unpadded base64)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _decode(body: str) -> bytes:
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(_("SSH 公钥内容无法解码，请完整复制 .pub 文件中的一行。")) from None


def _fields(blob: bytes) -> list[bytes]:
    """The length-prefixed fields of a key blob; [] when the lengths do not add up."""
    fields, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            return []
        (length,) = struct.unpack(">I", blob[offset:offset + 4])
        offset += 4
        if offset + length > len(blob):
            return []
        fields.append(blob[offset:offset + length])
        offset += length
    return fields


def _rsa_bits(fields: list[bytes]) -> int:
    """Size of the modulus of an ``ssh-rsa`` blob (type, e, n)."""
    if len(fields) != 3:
        raise InvalidKey(_("SSH 公钥内容与其类型不符。"))
    return int.from_bytes(fields[2], "big").bit_length()
