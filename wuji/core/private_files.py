"""Private files: ID photos, licences, freeze evidence, transfer receipts, fapiao and contract PDFs.

They live under WUJI_PRIVATE_FILES_DIR, outside static and media URLs, and are served only through views that
check ownership or staff rights. Sensitive ones are written encrypted (Fernet, the same rotatable keys as every
secret at rest). Each app keeps only its own `upload_to` path function.
"""

import base64
import os

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from . import crypto


class PrivateStorage(FileSystemStorage):
    """Files under WUJI_PRIVATE_FILES_DIR (read at each use, so tests and operators can move it), with no
    public URL: nothing can link to a file directly."""

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


def encrypted_file(data: bytes, *, name: str = "file.bin") -> ContentFile:
    return ContentFile(crypto.encrypt(base64.b64encode(data).decode()).encode(), name=name)


def decrypted_bytes(field_file) -> bytes:
    with field_file.open("rb") as handle:
        token = handle.read().decode()
    return base64.b64decode(crypto.decrypt(token))
