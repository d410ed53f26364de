"""Fapiao and contract PDFs live in the private files directory (no public URL), served only through views
that check the owner or staff rights. The storage class is the one real-name documents use."""

import uuid

from wuji.core.private_files import private_storage

__all__ = ["contract_path", "fapiao_path", "private_storage"]


def fapiao_path(instance, filename: str) -> str:
    return f"finance/fapiao/{instance.customer_id}/{uuid.uuid4().hex}.pdf"


def contract_path(instance, filename: str) -> str:
    return f"finance/contracts/{instance.customer_id}/{uuid.uuid4().hex}.pdf"
