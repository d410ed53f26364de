"""The shared upload checks: count, size and type by signature (never by name)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wuji.core import uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(uploads.UploadRefused) as info:
        call(*args, **kwargs)
    return info.value.code


def test_check_uploads_types_by_signature_and_keeps_order():
    checked = uploads.check_uploads([uploads.Upload("a.pdf", b"%PDF-1.7"), uploads.Upload("b.txt", PNG)],
                                    limit=2, max_bytes=100)
    assert [(c.name, c.content_type) for c in checked] == [("a.pdf", "application/pdf"), ("b.txt", "image/png")]


def test_check_uploads_refusals():
    assert refusal(uploads.check_uploads, [uploads.Upload("x.png", PNG)] * 3, limit=2, max_bytes=100) == \
        "too_many_files"
    assert refusal(uploads.check_uploads, [uploads.Upload("x.png", PNG + b"0" * 100)], limit=2,
                   max_bytes=100) == "file_too_large"
    assert refusal(uploads.check_uploads, [uploads.Upload("x.png", b"GIF89a")], limit=2, max_bytes=100) == \
        "file_type"
    assert uploads.check_uploads(None, limit=2, max_bytes=100) == []


def test_read_upload_refuses_a_large_file_before_reading_it():
    assert refusal(uploads.read_upload, SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * 2048), max_bytes=1024) == \
        "file_too_large"
    assert uploads.read_upload(SimpleUploadedFile("x.pdf", b"%PDF-1"), max_bytes=1024).data == b"%PDF-1"


def test_multiple_file_field_cleans_to_a_list():
    field = uploads.MultipleFileField(required=False)
    one = SimpleUploadedFile("x.pdf", b"%PDF-1")
    assert field.clean([one, one]) == [one, one]
    assert field.clean(None) == []
