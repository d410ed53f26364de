"""Finance API: summary, applications (create with Idempotency-Key, refusals, cancel, PDF), contracts, and owner
boundaries (someone else's objects are 404 and never listed)."""

import pytest

from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.core import testing
from wuji.finance import services as finance
from wuji.finance.choices import FapiaoStatus
from wuji.finance.models import FapiaoApplication

from .conftest import CREDIT_CODE, PDF, apply, issue, refund_cash, spend

BASE = "/api/v1/finance"


@pytest.fixture
def api(customer):
    return client_for(customer)


def post_fapiao(client, body, key="k-1"):
    return client.post(f"{BASE}/fapiao/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_invoiceable_summary_with_title(api, customer, staff):
    spend(customer, 80_00)
    issue(apply(customer, 50_00), staff)
    apply(customer, 10_00)
    refund_cash(customer, 40_00)
    data = api.get(f"{BASE}/invoiceable/").json()
    assert data["consumed_fen"] == 40_00 and data["issued_fen"] == 50_00 and data["pending_fen"] == 10_00
    assert data["invoiceable_fen"] == -20_00 and data["invoiceable_yuan"] == "-20.00" and data["debt_fen"] == 10_00
    assert data["title"] == {"kind": "individual", "name": "测试用户", "taxpayer_id": "", "general_taxpayer": False,
                             "allowed_types": ["normal"]}


def test_enterprise_title_in_the_api(enterprise):
    data = client_for(enterprise).get(f"{BASE}/invoiceable/").json()
    assert data["title"]["kind"] == "enterprise" and data["title"]["taxpayer_id"] == CREDIT_CODE


def test_create_is_idempotent_and_recorded_as_an_api_instruction(api, customer):
    spend(customer, 30_00)
    first = post_fapiao(api, {"amount_fen": 30_00})
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "pending" and first.json()["amount_yuan"] == "30.00"
    again = post_fapiao(api, {"amount_fen": 30_00})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and FapiaoApplication.objects.count() == 1
    record = Instruction.objects.get(action="fapiao.apply")
    assert record.channel == "api" and record.ip == "203.0.113.7"


def test_refusals_are_400_naming_the_field(api, customer):
    spend(customer, 30_00)
    over = post_fapiao(api, {"amount_fen": 30_01}, key="a")
    assert over.status_code == 400 and over.json()["field"] == "amount_fen"
    special = post_fapiao(api, {"amount_fen": 10_00, "fapiao_type": "special"}, key="b")
    assert special.status_code == 400 and special.json()["field"] == "fapiao_type"
    missing_key = api.post(f"{BASE}/fapiao/", {"amount_fen": 10_00}, format="json", HTTP_IDEMPOTENCY_KEY="")
    assert missing_key.status_code == 400 and missing_key.json()["field"] == "Idempotency-Key"
    assert not FapiaoApplication.objects.exists()


def test_cancel_and_pdf(api, customer, staff):
    spend(customer, 30_00)
    pending = apply(customer, 10_00)
    issued = issue(apply(customer, 20_00), staff)
    response = api.post(f"{BASE}/fapiao/{pending.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = api.post(f"{BASE}/fapiao/{pending.pk}/cancel/")
    assert again.status_code == 409
    assert api.get(f"{BASE}/fapiao/{pending.pk}/pdf/").status_code == 404  # not issued
    pdf = api.get(f"{BASE}/fapiao/{issued.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content == PDF


def test_someone_elses_fapiao_and_contracts_are_404(api, customer, other_customer, catalogue, staff):
    spend(other_customer, 50_00)
    theirs = issue(apply(other_customer, 20_00), staff)
    pending = apply(other_customer, 10_00)
    order, _ = billing.place_order(customer=other_customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="x", idempotency_key="o",
                                   channel="api", ip=None)
    contract = finance.approve_contract(finance.apply_for_contract(other_customer, order=order), staff)
    for url in (f"{BASE}/fapiao/{theirs.pk}/", f"{BASE}/fapiao/{theirs.pk}/pdf/", f"{BASE}/contracts/{contract.pk}/",
                f"{BASE}/contracts/{contract.pk}/pdf/"):
        assert api.get(url).status_code == 404, url
    assert api.post(f"{BASE}/fapiao/{pending.pk}/cancel/").status_code == 404
    pending.refresh_from_db()
    assert pending.status == FapiaoStatus.PENDING
    assert api.get(f"{BASE}/fapiao/").json()["results"] == []
    assert api.get(f"{BASE}/contracts/").json()["results"] == []
    response = api.post(f"{BASE}/contracts/", {"order": order.pk}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "order"


def test_contract_apply_list_and_download(api, customer, catalogue, staff):
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="x", idempotency_key="o",
                                   channel="api", ip=None)
    created = api.post(f"{BASE}/contracts/", {"order": order.pk}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "pending"
    contract_id = created.json()["id"]
    assert api.get(f"{BASE}/contracts/{contract_id}/pdf/").status_code == 404  # not approved yet
    duplicate = api.post(f"{BASE}/contracts/", {"order": order.pk}, format="json")
    assert duplicate.status_code == 400 and duplicate.json()["field"] == "order"
    contract = finance.approve_contract(finance.contracts_of(customer).get(pk=contract_id), staff)
    listed = api.get(f"{BASE}/contracts/").json()["results"]
    assert listed[0]["number"] == contract.number
    pdf = api.get(f"{BASE}/contracts/{contract_id}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert Instruction.objects.get(action="contract.apply").channel == "api"


def count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_lists_cost_the_same_queries_for_one_row_as_for_many(api, customer, catalogue, staff):
    testing.fund(customer, 100_00)
    for n in range(3):
        order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                       image=catalogue["image"], cycle="monthly", name=f"q{n}",
                                       idempotency_key=f"q{n}", channel="api", ip=None)
        finance.apply_for_contract(customer, order=order)
        issue(apply(customer, 10_00), staff)
        if n == 0:
            api.get(f"{BASE}/invoiceable/")  # the key's first use writes its last-used time once
            baseline = {url: count_queries(api, url) for url in (f"{BASE}/fapiao/", f"{BASE}/contracts/")}
    for url, first in baseline.items():
        assert count_queries(api, url) == first <= 3, url  # authentication, count, rows
