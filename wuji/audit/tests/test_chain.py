import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.core import testing


@pytest.fixture
def log(catalogue):
    user = testing.make_customer("alice@example.com", verified=False)  # writes account.register
    first = audit.record(actor=user, owner=user, channel="web", action="server.reboot", target=user,
                         params={"hard": False, "password": "hunter2"}, ip="203.0.113.7")
    audit.record_outcome(first, succeeded=True)
    audit.record(actor=user, owner=user, channel="api", action="server.stop", target=user, params={}, ip="::1")
    return user


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_chain_links_every_record_and_verifies(log):
    records = list(Instruction.objects.order_by("seq"))  # the catalogue's agreement.publish comes first
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert [r.action for r in records][-4:] == ["account.register", "server.reboot", "server.reboot", "server.stop"]
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:], strict=False))
    assert audit.verify() == []
    call_command("audit", "verify")


def test_secrets_are_never_stored_in_parameters(log):
    assert Instruction.objects.get(action="server.reboot", refers_to__isnull=True).params == {
        "hard": False, "password": "***"}


def test_outcome_is_a_new_record_referring_to_the_instruction(log):
    instruction = Instruction.objects.get(action="server.reboot", refers_to__isnull=True)
    assert instruction.result == "accepted"
    assert instruction.outcomes.get().result == "succeeded"


# The log: 1 agreement.publish (catalogue), 2 account.register, 3 server.reboot, 4 its outcome, 5 server.stop.
@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_instruction SET params = '{\"hard\": true}' WHERE seq = 3",
        "UPDATE audit_instruction SET result = 'failed' WHERE seq = 4",
        "UPDATE audit_instruction SET ip = '198.51.100.1' WHERE seq = 5",
        "UPDATE audit_instruction SET created_at = created_at - interval '1 day' WHERE seq = 1",
        "DELETE FROM audit_instruction WHERE seq = 5",
        "DELETE FROM audit_instruction WHERE seq = 4",
    ],
)
def test_tampering_with_any_record_breaks_verification(log, tamper):
    if "interval" in tamper and connection.vendor == "sqlite":
        tamper = "UPDATE audit_instruction SET created_at = '2020-01-01 00:00:00' WHERE seq = 1"
    raw(tamper)
    assert audit.verify() != []
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_rewriting_a_record_and_its_own_hash_is_still_detected_downstream(log):
    record = Instruction.objects.get(action="server.reboot", refers_to__isnull=True)
    record.params = {"hard": True}
    forged = audit.compute_hash(record.prev_hash, record)
    raw("UPDATE audit_instruction SET params = %s, hash = %s WHERE seq = %s", ['{"hard": true}', forged, record.seq])
    assert any(f"#{record.seq + 1}: previous-hash link broken" in p for p in audit.verify())


def test_the_log_is_append_only_through_the_orm(log):
    from wuji.ledger.models import ImmutableError

    record = Instruction.objects.get(seq=1)
    with pytest.raises(ImmutableError):
        record.save()
    with pytest.raises(ImmutableError):
        record.delete()
