"""Checking files customers and staff upload: how many, how large, and what they really are.

The type comes from the file's first bytes (its signature), never from its name or the browser's claim. A
refusal is an `UploadRefused` with a message for people and a stable code; callers turn it into their own
refusal. `MultipleFileField` is the form field that takes several files at once.
"""

import dataclasses

from django import forms
from django.utils.translation import gettext as _

IMAGES_AND_PDF = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}


class UploadRefused(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file as services take it: its name as given and its bytes."""

    name: str
    data: bytes


@dataclasses.dataclass(frozen=True)
class CheckedUpload:
    name: str
    data: bytes
    content_type: str


def _too_large(max_bytes: int) -> UploadRefused:
    return UploadRefused(_("单个文件不能超过 %(mb)s MB。") % {"mb": max_bytes // (1024 * 1024)}, code="file_too_large")


def read_upload(uploaded, *, max_bytes: int) -> Upload:
    """Django's UploadedFile as an Upload; a file over the limit is refused before it is read into memory."""
    if uploaded.size > max_bytes:
        raise _too_large(max_bytes)
    return Upload(name=(uploaded.name or "file")[-200:], data=uploaded.read())


def sniff(data: bytes, signatures: dict[bytes, str]) -> str | None:
    return next((content_type for sig, content_type in signatures.items() if data.startswith(sig)), None)


def check_uploads(files, *, limit: int, max_bytes: int, signatures: dict[bytes, str] = IMAGES_AND_PDF,
                  type_message: str | None = None) -> list[CheckedUpload]:
    """Every file within the count and size limits and of an accepted type, or an UploadRefused."""
    files = list(files or [])
    if len(files) > limit:
        raise UploadRefused(_("最多上传 %(n)s 个文件。") % {"n": limit}, code="too_many_files")
    checked = []
    for upload in files:
        if len(upload.data) > max_bytes:
            raise _too_large(max_bytes)
        content_type = sniff(upload.data, signatures)
        if content_type is None:
            raise UploadRefused(type_message or _("只支持 JPEG、PNG 或 PDF 文件。"), code="file_type")
        checked.append(CheckedUpload(name=upload.name, data=upload.data, content_type=content_type))
    return checked


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none were chosen and the field is optional)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        cleaned = super().clean(data, initial)
        return [cleaned] if cleaned else []
