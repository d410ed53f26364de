"""Shared set-up for the status tests: staff with roles, and servers on three nodes in two regions."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from wuji.billing import services as billing
from wuji.compute.drivers import get_driver
from wuji.compute.models import Node
from wuji.core import clock, testing


def staff_user(email: str, role: str):
    user = get_user_model().objects.create_user(email=email, password=testing.PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def order_server(customer, region, plan, image, key: str):
    order, _ = billing.place_order(customer=customer, region=region, plan=plan, image=image, cycle="monthly",
                                   name=f"s-{key}", idempotency_key=key, channel="web", ip="127.0.0.1")
    testing.run_tasks()
    order.server.refresh_from_db()
    return order.server


def make_node(name: str, region, image) -> Node:
    node = Node.objects.create(name=name, region=region, uri=f"fake://{name}", vcpus=16, memory_mib=32768,
                               disk_gib=500)
    get_driver(node.uri).add_image(image.volume)
    return node


@pytest.fixture
def ops(db):
    return staff_user("ops@example.com", "operations")


@pytest.fixture
def finance(db):
    return staff_user("finance@example.com", "finance")


@pytest.fixture
def world(catalogue, customer, other_customer):
    """alice on demo-node-1 (Ganzhou), bob on gz-2 (Ganzhou), carol on hk-1 (Hong Kong)."""
    image, plan = catalogue["image"], catalogue["plan"]
    node1 = catalogue["node"]
    gz2 = make_node("gz-2", catalogue["region"], image)
    hk1 = make_node("hk-1", catalogue["hk"], image)
    alice = order_server(customer, catalogue["region"], plan, image, "a")
    Node.objects.filter(pk=node1.pk).update(is_enabled=False)  # steer the next order onto gz-2
    bob = order_server(other_customer, catalogue["region"], plan, image, "b")
    Node.objects.filter(pk=node1.pk).update(is_enabled=True)
    carol_user = testing.make_customer("carol@example.com", balance_fen=100_00)
    carol = order_server(carol_user, catalogue["hk"], plan, image, "c")
    assert (alice.node, bob.node, carol.node) == (node1, gz2, hk1)
    return {"alice": alice, "bob": bob, "carol": carol, "node1": node1, "gz2": gz2, "hk1": hk1,
            "region": catalogue["region"], "hk": catalogue["hk"]}


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)
