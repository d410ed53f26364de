"""Bank-transfer receipts: kept encrypted under WUJI_PRIVATE_FILES_DIR, never under a public URL."""

import base64
import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from wuji.core import crypto


class PrivateStorage(FileSystemStorage):
    """Read the directory at each use (tests and operators may move it); no base URL, so nothing links to a file."""

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


def receipt_path(instance, filename: str) -> str:
    return f"payments/receipts/{instance.customer_id}/{uuid.uuid4().hex}.bin"


def encrypted_file(data: bytes) -> ContentFile:
    return ContentFile(crypto.encrypt(base64.b64encode(data).decode()).encode(), name="receipt.bin")


def decrypted_bytes(field_file) -> bytes:
    with field_file.open("rb") as handle:
        token = handle.read().decode()
    return base64.b64decode(crypto.decrypt(token))
