"""Portal: the snapshots section of the server page — create, revert and delete with confirmation, refusals
shown, each form once, and nobody else's server or snapshot reachable."""

import uuid

from django.urls import reverse

from wuji.audit.models import Instruction
from wuji.compute.models import Snapshot
from wuji.core import testing

from .conftest import act, buy_server


def create(client, server, name="before-upgrade", key=None):
    return client.post(reverse("portal:snapshot_create", args=[server.pk]),
                       {"name": name, "idempotency_key": key or str(uuid.uuid4())})


def confirmed(client, view, server, snapshot, confirm=True, key=None):
    data = {"idempotency_key": key or str(uuid.uuid4())}
    if confirm:
        data["confirm"] = "1"
    return client.post(reverse(view, args=[server.pk, snapshot.pk]), data, follow=True)


def test_snapshot_section_create_revert_delete(client, customer, catalogue):
    client.force_login(customer)
    server = buy_server(client, catalogue)
    page = client.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert 'data-testid="snapshots"' in page and "暂无快照" in page
    assert "全部快照" in page  # the reinstall confirmation says snapshots go with it

    key = str(uuid.uuid4())
    assert create(client, server, key=key).status_code == 302
    create(client, server, key=key)  # the same form twice: one snapshot
    testing.run_tasks()
    snapshot = Snapshot.objects.get()
    page = client.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert "before-upgrade" in page and "snapshot-delete" in page and "snapshot-revert" not in page  # running

    act(client, server, "stop")
    testing.run_tasks()
    unconfirmed = confirmed(client, "portal:snapshot_revert", server, snapshot, confirm=False)
    assert "请勾选确认框" in unconfirmed.content.decode()
    assert not Instruction.objects.filter(action="server.snapshot_revert").exists()
    revert_key = str(uuid.uuid4())
    for expected in ("指令已受理", "未重复执行"):  # the same form twice: carried out once
        page = confirmed(client, "portal:snapshot_revert", server, snapshot, key=revert_key).content.decode()
        assert expected in page
    testing.run_tasks()

    confirmed(client, "portal:snapshot_delete", server, snapshot)
    testing.run_tasks()
    snapshot.refresh_from_db()
    assert snapshot.state == "deleted"
    assert Instruction.objects.filter(action__startswith="server.snapshot", result="accepted").count() == 3


def test_a_refusal_is_shown(client, customer, catalogue, settings):
    settings.WUJI_SNAPSHOTS_PER_SERVER = 0
    client.force_login(customer)
    server = buy_server(client, catalogue)
    page = client.post(reverse("portal:snapshot_create", args=[server.pk]),
                       {"name": "x", "idempotency_key": str(uuid.uuid4())}, follow=True).content.decode()
    assert "最多保留 0 个快照" in page and not Snapshot.objects.exists()


def test_bob_gets_404_on_alices_snapshots(client, customer, other_customer, catalogue):
    client.force_login(customer)
    server = buy_server(client, catalogue)
    create(client, server)
    testing.run_tasks()
    snapshot = Snapshot.objects.get()
    client.force_login(other_customer)
    snapshot_instructions = Instruction.objects.filter(action__startswith="server.snapshot")
    before = snapshot_instructions.count()
    assert create(client, server).status_code == 404
    for view in ("portal:snapshot_revert", "portal:snapshot_delete"):
        response = client.post(reverse(view, args=[server.pk, snapshot.pk]),
                               {"confirm": "1", "idempotency_key": str(uuid.uuid4())})
        assert response.status_code == 404, view
    bobs = buy_server(client, catalogue)
    response = client.post(reverse("portal:snapshot_delete", args=[bobs.pk, snapshot.pk]),
                           {"confirm": "1", "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 404  # Alice's snapshot under Bob's own server
    snapshot.refresh_from_db()
    assert snapshot.state == "available"
    assert snapshot_instructions.count() == before
