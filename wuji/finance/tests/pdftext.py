"""A small text extractor for the PDFs ReportLab writes (nothing installed here reads PDF): it decodes the page
content streams (ASCII85 + Flate), follows `Tf` font changes and decodes the string operands — UCS-2 for the
CID font (encoding UniGB-UCS2-H), Latin-1 for the Type 1 fonts. Enough to prove what the contract says."""

import base64
import re
import zlib

STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", re.S)
FONT_OBJECT = re.compile(rb"/BaseFont /([\w-]+).*?/Name /(F\d+)", re.S)
TOKEN = re.compile(rb"/(F\d+) [\d.]+ Tf|\((?:\\.|[^\\)])*\)", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(literal):
        byte = literal[i:i + 1]
        if byte != b"\\":
            out += byte
            i += 1
            continue
        nxt = literal[i + 1:i + 2]
        octal = re.match(rb"[0-7]{1,3}", literal[i + 1:i + 4])
        if octal:
            out.append(int(octal.group(), 8))
            i += 1 + len(octal.group())
        else:
            out += ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def content_streams(data: bytes) -> list[bytes]:
    streams = []
    for header, body in STREAM.findall(data):
        if b"ASCII85Decode" in header:
            body = base64.a85decode(body.strip().removesuffix(b"~>"))
        if b"FlateDecode" in header:
            body = zlib.decompress(body)
        streams.append(body)
    return streams


def extract_text(data: bytes) -> str:
    cid_fonts = {name.decode() for base, name in FONT_OBJECT.findall(data) if base == b"STSong-Light"}
    lines, font = [], None
    for stream in content_streams(data):
        for match in TOKEN.finditer(stream):
            if match.group(1):
                font = match.group(1).decode()
                continue
            raw = _unescape(match.group(0)[1:-1])
            lines.append(raw.decode("utf-16-be") if font in cid_fonts else raw.decode("latin-1"))
    return "\n".join(lines)
