"""The hand-written statement behind every signed request's key lookup (api.services.active_key, decision 0055)
means what the ORM definitions it replaces on that path mean: restrictions.is_restricted(…, API) and
agreements.needs_acceptance, state by state; and it hydrates the key and its owner as the ORM does."""

import datetime as dt

import pytest

from wuji.accounts import restrictions
from wuji.accounts.restrictions import RestrictedFunction
from wuji.agreements import services as agreements
from wuji.agreements.tests.conftest import frozen, publish_revision  # noqa: F401 — frozen is a fixture
from wuji.api import services as api_keys
from wuji.api.models import ApiKey
from wuji.core import clock


def flags_by_orm(user) -> tuple[bool, bool]:
    return restrictions.is_restricted(user, RestrictedFunction.API), agreements.needs_acceptance(user)


def flags_by_sql(user) -> tuple[bool, bool]:
    key = api_keys.active_key(api_keys.keys_of(user).get(revoked_at__isnull=True).key_id)
    return key.api_restricted, key.agreement_pending


def check(user, expected: tuple[bool, bool]) -> None:
    assert flags_by_sql(user) == flags_by_orm(user) == expected


@pytest.mark.django_db
def test_flags_follow_restrictions_and_acceptances_like_the_orm(catalogue, customer, other_customer, frozen):  # noqa: F811
    for user in (customer, other_customer):
        api_keys.create_key(owner=user, name="k", ip=None)
    check(customer, (False, False))  # accepted the version in force at sign-up

    restrictions.restrict(user=customer, functions=[RestrictedFunction.WITHDRAWAL], reason="核查", actor=None)
    restrictions.restrict(user=other_customer, functions=[RestrictedFunction.API], reason="滥用", actor=None)
    check(customer, (False, False))  # another function, another customer's restriction
    check(other_customer, (True, False))

    [api] = restrictions.restrict(user=customer, functions=[RestrictedFunction.API], reason="滥用", actor=None)
    check(customer, (True, False))
    restrictions.lift(restriction=api, actor=None, reason="已整改")
    check(customer, (False, False))

    revision = publish_revision(days=7)
    check(customer, (False, False))  # published, not yet in force
    frozen.move_to(revision.effective_at)
    check(customer, (False, True))
    agreements.accept_current(customer, accepted_version=revision.version, ip=None, channel="web")
    check(customer, (False, False))
    check(other_customer, (True, True))  # one customer's acceptance is not another's


def test_active_key_hydrates_the_key_and_its_owner_like_the_orm_and_skips_revoked_keys(customer):
    key, _secret = api_keys.create_key(owner=customer, name="k", ip="127.0.0.1", allowed_ips=["10.0.0.0/8"],
                                       scopes=["servers"], expires_at=clock.now() + dt.timedelta(days=3))
    api_keys.record_use(key, "127.0.0.1")
    found, orm = api_keys.active_key(key.key_id), ApiKey.objects.select_related("owner").get(pk=key.pk)
    for field in ApiKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(orm, field.attname), field.name
    for field in type(customer)._meta.concrete_fields:
        assert getattr(found.owner, field.attname) == getattr(orm.owner, field.attname), field.name
    assert found.expires_at.tzinfo is not None and found.scopes == ["servers"]
    api_keys.revoke_key(key=key, actor=customer, ip=None)
    assert api_keys.active_key(key.key_id) is None
