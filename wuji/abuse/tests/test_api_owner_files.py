"""Issue 7 coverage (decision 0044): the owner lists and downloads their own reply attachments over the API, as
on the portal's case page; the reporter's evidence and another customer's case are 404."""

from wuji.abuse import services
from wuji.api.tests.conftest import client_for

from .conftest import PDF
from .test_owner import told  # noqa: F401 (fixture)


def reply_with_file(case, owner):
    case.refresh_from_db()  # the fixture's instance predates telling the owner
    services.reply(case, owner=owner, text="已处理。", files=[services.Upload("fixed.pdf", PDF)], channel="web")
    return case.evidence.get(name="fixed.pdf")


def test_the_owner_lists_and_downloads_only_their_own_reply_files(customer, told):  # noqa: F811
    mine = reply_with_file(told, customer)
    api = client_for(customer)
    listing = api.get(f"/api/v1/abuse/cases/{told.pk}/files/").json()
    assert [(f["id"], f["name"], f["size"]) for f in listing] == [(mine.pk, "fixed.pdf", len(PDF))]
    download = api.get(f"/api/v1/abuse/cases/{told.pk}/files/{mine.pk}/")
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_the_reporters_evidence_is_not_found(customer, told):  # noqa: F811
    reporter_file = told.evidence.get(name="reporter.png")
    response = client_for(customer).get(f"/api/v1/abuse/cases/{told.pk}/files/{reporter_file.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_another_customer_gets_404_on_the_case_files(customer, other_customer, told):  # noqa: F811
    mine = reply_with_file(told, customer)
    other = client_for(other_customer)
    assert other.get(f"/api/v1/abuse/cases/{told.pk}/files/").status_code == 404
    response = other.get(f"/api/v1/abuse/cases/{told.pk}/files/{mine.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
