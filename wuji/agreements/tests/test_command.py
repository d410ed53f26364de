"""`wuji agreement publish PATH --effective DATE` and `wuji agreement list`."""

import pytest
from django.core.management import CommandError, call_command

from wuji.agreements import services
from wuji.agreements.models import AgreementVersion

from .conftest import REVISED_TEXT


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "agreement.md"
    path.write_text(REVISED_TEXT, "utf-8")
    return path


def test_publish_happy_path_defaults_version_and_title(catalogue, frozen, text_file, capsys):
    call_command("agreement", "publish", str(text_file), "--effective", "2026-03-10")
    published = AgreementVersion.objects.get(version="2026-03-10")
    assert published.title == "武极云用户服务协议" and published.body == REVISED_TEXT
    assert published.effective_at.isoformat() == "2026-03-09T16:00:00+00:00"  # midnight Beijing time
    assert services.pending_version() == published
    assert "2026-03-10" in capsys.readouterr().out
    call_command("agreement", "list")
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("2026-03-10\tpending") and listed[1].startswith("2022-11-27\tin force")


def test_publish_with_explicit_version_title_and_time(catalogue, frozen, text_file):
    call_command("agreement", "publish", str(text_file), "--effective", "2026-03-09 10:00", "--version", "v2",
                 "--title", "新协议")
    published = AgreementVersion.objects.get(version="v2")
    assert published.title == "新协议" and published.effective_at.isoformat() == "2026-03-09T02:00:00+00:00"


def test_missing_file_is_an_error(catalogue, frozen, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("agreement", "publish", str(tmp_path / "missing.md"), "--effective", "2026-04-01")


@pytest.mark.parametrize("date", ["2026-03-01", "2026-03-08", "2026-03-09 09:59"])
def test_past_or_too_early_date_is_an_error(catalogue, frozen, text_file, date):
    with pytest.raises(CommandError, match="至少提前 7 日公告"):
        call_command("agreement", "publish", str(text_file), "--effective", date)
    assert AgreementVersion.objects.count() == 1


def test_unreadable_date_is_an_error(catalogue, frozen, text_file):
    with pytest.raises(CommandError, match="not a date"):
        call_command("agreement", "publish", str(text_file), "--effective", "next week")
