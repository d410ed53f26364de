import csv
import io

from wuji.api.csv_export import BOM, HEADER, write_instructions_csv
from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.core import testing

from .conftest import active_server, buy

INSTRUCTIONS = "/api/v1/instructions/"
EXPORT = "/api/v1/instructions/export.csv"


def parse_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM.encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8").removeprefix(BOM))))


def test_instruction_log_lists_instructions_and_outcomes_newest_first(api, customer):
    order_seq = Instruction.objects.filter(owner=customer).count()
    buy(api)
    testing.run_tasks()
    rows = api.get(INSTRUCTIONS).json()["results"]
    outcome, placed = rows[0], rows[1]
    assert (placed["action"], placed["channel"], placed["result"], placed["ip"]) == (
        "order.place", "api", "accepted", "203.0.113.7")
    assert placed["params"]["plan"] == "s1" and placed["seq"] > order_seq
    assert (outcome["action"], outcome["channel"], outcome["result"], outcome["refers_to"]) == (
        "order.place", "system", "succeeded", placed["seq"])
    assert set(placed) == {"seq", "created_at", "channel", "action", "target_type", "target_id", "params", "ip",
                           "result", "detail", "refers_to"}
    assert api.get(f"{INSTRUCTIONS}{placed['seq']}/").json() == placed


def test_export_is_a_utf8_csv_with_bom_of_the_whole_log(api, customer):
    server_id = active_server(api)
    seq = api.post(f"/api/v1/servers/{server_id}/reboot/", {}, format="json").json()["instruction_seq"]
    response = api.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="wuji-instructions-')
    rows = parse_csv(response.content)
    assert rows[0] == HEADER
    assert len(rows) - 1 == audit.instructions_for(customer).count()
    reboot = next(row for row in rows[1:] if row[0] == str(seq))
    assert reboot[2:6] == ["api", "server.reboot", "server", str(server_id)]
    assert (reboot[7], reboot[8]) == ("203.0.113.7", "accepted")


def test_export_honours_an_accept_text_csv_header(api):
    response = api.get(EXPORT, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert parse_csv(response.content)[0] == HEADER


def test_export_needs_a_key(db):
    from rest_framework.test import APIClient

    assert APIClient().get(EXPORT).status_code == 401


def test_csv_cells_that_look_like_formulas_are_defused(customer):
    audit.record(actor=customer, owner=customer, channel="api", action="server.rename", target=None,
                 params={"name": "=HYPERLINK(\"http://evil\")"}, detail="=1+1", ip="127.0.0.1")
    stream = io.StringIO()
    write_instructions_csv(audit.instructions_for(customer)[:1], stream)
    row = parse_csv(stream.getvalue().encode())[1]
    assert row[9] == "'=1+1"
    assert row[6] == '{"name": "=HYPERLINK(\\"http://evil\\")"}'  # JSON starts with "{": inert


def test_export_error_asked_as_csv_is_still_an_error(db):
    from rest_framework.test import APIClient

    response = APIClient().get(EXPORT, HTTP_ACCEPT="text/csv")
    assert response.status_code == 401
    assert b"code,not_authenticated" in response.content
