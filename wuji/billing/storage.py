"""Freeze evidence and appeal attachments: encrypted files under WUJI_PRIVATE_FILES_DIR, with no public URL;
served only through views that check ownership (appeal files) or staff rights."""

import base64
import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from wuji.core import crypto


class PrivateStorage(FileSystemStorage):
    @property
    def base_location(self):
        return str(settings.WUJI_PRIVATE_FILES_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_storage() -> FileSystemStorage:
    return PrivateStorage()


def freeze_file_path(instance, filename: str) -> str:
    return f"freezes/{instance.freeze_id}/{uuid.uuid4().hex}.bin"


def encrypted_file(data: bytes) -> ContentFile:
    return ContentFile(crypto.encrypt(base64.b64encode(data).decode()).encode(), name="file.bin")


def decrypted_bytes(field_file) -> bytes:
    with field_file.open("rb") as handle:
        token = handle.read().decode()
    return base64.b64decode(crypto.decrypt(token))
