"""Publishing revisions (clause 11): the 7-day notice rule, taking effect by itself, the site notice."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from wuji.agreements import services
from wuji.agreements.models import AgreementVersion
from wuji.audit.models import Instruction

from .conftest import NOW, REVISED_TEXT, publish_revision


def test_revision_effective_exactly_seven_days_after_publication_is_accepted(catalogue, frozen):
    revised = publish_revision(days=7)
    assert revised.published_at == NOW and revised.effective_at == NOW + dt.timedelta(days=7)
    assert Instruction.objects.filter(action="agreement.publish", target_id=str(revised.pk)).exists()


def test_revision_effective_earlier_than_seven_days_is_refused_and_nothing_written(catalogue, frozen):
    instructions = Instruction.objects.count()
    with pytest.raises(ValidationError) as refused:
        publish_revision(days=7 - 1 / 86400)  # one second short
    assert "至少提前 7 日公告" in refused.value.message_dict["effective_at"][0]
    assert not AgreementVersion.objects.filter(version="2026-03-09").exists()
    assert Instruction.objects.count() == instructions


def test_revision_without_effective_date_is_refused(catalogue, frozen):
    with pytest.raises(ValidationError) as refused:
        services.publish(version="v2", title="协议", body=REVISED_TEXT)
    assert "effective_at" in refused.value.message_dict


def test_notice_period_can_be_longer_but_never_shorter_than_seven_days(catalogue, frozen, settings):
    settings.WUJI_AGREEMENT_NOTICE_DAYS = 3
    with pytest.raises(ValidationError):
        publish_revision(days=5)
    settings.WUJI_AGREEMENT_NOTICE_DAYS = 10
    with pytest.raises(ValidationError):
        publish_revision(days=9)
    assert publish_revision(days=10).version == "2026-03-09"


def test_first_version_ever_may_take_effect_at_once(db, frozen):
    first = services.publish(version="v1", title="协议", body="正文")
    assert first.effective_at == NOW and services.current_version() == first


def test_a_revision_must_take_effect_after_every_published_version(catalogue, frozen):
    publish_revision(days=10, version="later")
    with pytest.raises(ValidationError) as refused:
        publish_revision(days=8, version="earlier")
    assert "later" in refused.value.message_dict["effective_at"][0]


def test_published_text_cannot_be_changed_but_republishing_the_same_is_harmless(catalogue, frozen):
    first = publish_revision()
    assert publish_revision() == first
    with pytest.raises(ValidationError) as refused:
        services.publish(version=first.version, title="另一个标题", body="别的正文",
                         effective_at=first.effective_at)
    assert "version" in refused.value.message_dict
    assert AgreementVersion.objects.get(pk=first.pk).body == REVISED_TEXT


def test_empty_fields_are_refused_by_name(catalogue, frozen):
    with pytest.raises(ValidationError) as refused:
        services.publish(version=" ", title="", body="  ", effective_at=NOW + dt.timedelta(days=8))
    assert set(refused.value.message_dict) == {"version", "title", "body"}


def test_revision_takes_effect_by_itself_on_its_date(catalogue, frozen):
    original = services.current_version()
    revised = publish_revision(days=7)
    assert services.current_version() == original and services.pending_version() == revised
    with time_machine.travel(revised.effective_at - dt.timedelta(seconds=1), tick=False):
        assert services.current_version() == original
    with time_machine.travel(revised.effective_at, tick=False):
        assert services.current_version() == revised and services.pending_version() is None


def test_public_page_shows_current_pending_with_date_and_versions_and_banner(client, catalogue, frozen):
    original = services.current_version()
    revised = publish_revision(days=7)
    page = client.get(reverse("portal:agreement"))
    html = page.content.decode()
    assert page.context["agreement"] == original and page.context["pending"] == revised
    assert 'data-testid="agreement-pending"' in html and "修订后的条款" in html
    assert "2026-03-09 10:00" in html  # the effective date, Beijing time
    assert [v.version for v in page.context["versions"]] == [revised.version, original.version]
    assert 'data-testid="agreement-revision-banner"' in html and "新版《武极云用户服务协议》（2026-03-09）将于" in html
    home = client.get(reverse("portal:home")).content.decode()
    assert 'data-testid="agreement-revision-banner"' in home
    with time_machine.travel(revised.effective_at, tick=False):
        page = client.get(reverse("portal:agreement"))
        assert page.context["agreement"] == revised and page.context["pending"] is None
        assert 'data-testid="agreement-revision-banner"' not in page.content.decode()


def test_every_version_has_its_own_page_and_unknown_ones_answer_404(client, catalogue, frozen):
    original = services.current_version()
    page = client.get(reverse("portal:agreement_version", args=[original.version]))
    assert page.status_code == 200 and page.context["agreement"] == original
    assert client.get(reverse("portal:agreement_version", args=["nope"])).status_code == 404
