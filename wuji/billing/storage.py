"""Freeze evidence and appeal attachments: encrypted private files (see `wuji.core.private_files`), served only
through views that check ownership (appeal files) or staff rights."""

import uuid

from wuji.core.private_files import decrypted_bytes, encrypted_file, private_storage

__all__ = ["decrypted_bytes", "encrypted_file", "freeze_file_path", "private_storage"]


def freeze_file_path(instance, filename: str) -> str:
    return f"freezes/{instance.freeze_id}/{uuid.uuid4().hex}.bin"
