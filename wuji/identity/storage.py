"""Where ID photos and business licences live: encrypted private files (see `wuji.core.private_files`)."""

import uuid

from wuji.core.private_files import decrypted_bytes, encrypted_file, private_storage

__all__ = ["decrypted_bytes", "document_path", "encrypted_file", "private_storage"]


def document_path(instance, filename: str) -> str:
    return f"identity/{instance.user_id}/{uuid.uuid4().hex}.bin"
