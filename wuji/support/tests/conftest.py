"""Support test helpers: private files in a temporary directory, staff with roles, a server of one's own."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from wuji.audit import services as audit
from wuji.compute import services as compute
from wuji.core import clock, testing

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4 test"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"


def staff(email: str, *roles: str):
    user = get_user_model().objects.create_user(email=email, password=testing.PASSWORD, is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def server_of(owner, catalogue, name: str = "web-1"):
    """A server record of `owner`'s, created through the compute service (no charge: tickets only refer to it)."""
    with transaction.atomic():
        instruction = audit.record(actor=owner, owner=owner, channel="web", action="order.place")
        server, _password = compute.create_server(
            owner=owner, region=catalogue["region"], plan=catalogue["plan"], image=catalogue["image"], name=name,
            instruction=instruction, expires_at=clock.now() + dt.timedelta(days=30))
    return server


@pytest.fixture
def support_staff(db):
    return staff("support@wuji.test", "support")


@pytest.fixture
def finance_staff(db):
    return staff("finance@wuji.test", "finance")


@pytest.fixture
def operations_staff(db):
    return staff("ops@wuji.test", "operations")
