"""Bank-transfer receipts: encrypted private files (see `wuji.core.private_files`), never under a public URL."""

import uuid

from wuji.core.private_files import decrypted_bytes, encrypted_file, private_storage

__all__ = ["decrypted_bytes", "encrypted_file", "private_storage", "receipt_path"]


def receipt_path(instance, filename: str) -> str:
    return f"payments/receipts/{instance.customer_id}/{uuid.uuid4().hex}.bin"
