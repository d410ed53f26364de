"""Where ID photos and business licences live: a private directory outside static and media URLs.

Files are written encrypted (Fernet, the same rotatable keys as every secret at rest) and are served only
through views that check ownership or staff rights.
"""

import base64
import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from wuji.core import crypto


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


def document_path(instance, filename: str) -> str:
    return f"identity/{instance.user_id}/{uuid.uuid4().hex}.bin"


def encrypted_file(data: bytes) -> ContentFile:
    return ContentFile(crypto.encrypt(base64.b64encode(data).decode()).encode(), name="document.bin")


def decrypted_bytes(field_file) -> bytes:
    with field_file.open("rb") as handle:
        token = handle.read().decode()
    return base64.b64decode(crypto.decrypt(token))
