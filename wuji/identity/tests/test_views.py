"""The verification page, the console review and data-access log, the API, and owner boundaries."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from wuji.api.testing import IdempotentAPIClient
from wuji.audit.models import DataAccess
from wuji.core import testing
from wuji.identity import services as identity
from wuji.identity.choices import VerificationStatus
from wuji.identity.models import Verification

from .conftest import PNG

ID = "110101199003071233"


@pytest.fixture
def staff(db):
    from wuji.accounts import services as accounts

    return accounts.create_staff(email="compliance@example.com", password=testing.PASSWORD)


def with_document(user):
    return identity.submit_individual(user, name="张三", id_number=ID,
                                      document=SimpleUploadedFile("id.png", PNG, content_type="image/png"))


def test_portal_page_submits_and_shows_the_masked_number(client, applicant):
    client.force_login(applicant)
    page = client.get(reverse("portal:identity"))
    assert page.status_code == 200 and "未认证" in page.content.decode()
    response = client.post(reverse("portal:identity"), {
        "kind": "individual", "individual-name": "张三", "individual-id_number": ID.lower()})
    assert response.status_code == 302
    html = client.get(reverse("portal:identity")).content.decode()
    assert "1101**********1233" in html and ID not in html and "审核中" in html


def test_portal_form_shows_field_errors(client, applicant):
    client.force_login(applicant)
    page = client.post(reverse("portal:identity"), {
        "kind": "individual", "individual-name": "张三", "individual-id_number": "110101199003071234"})
    assert page.status_code == 200
    assert "校验位" in str(page.context["individual_form"].errors["id_number"])
    assert not Verification.objects.exists()


def test_portal_shows_the_rejection_reason(client, applicant, reviewer):
    identity.reject(identity.submit_individual(applicant, name="张三", id_number=ID), reviewer, "照片模糊")
    client.force_login(applicant)
    assert "照片模糊" in client.get(reverse("portal:identity")).content.decode()


def test_buy_page_shows_the_requirement_with_a_link(client, applicant):
    client.force_login(applicant)
    html = client.get(reverse("portal:buy")).content.decode()
    assert 'data-testid="real-name-notice"' in html and reverse("portal:identity") in html


def test_owner_boundary_documents_and_pages(client, catalogue, applicant):
    v = with_document(applicant)
    other = testing.make_customer("eve@example.com", verified=False)
    client.force_login(other)
    assert client.get(reverse("portal:identity_document", args=[v.pk])).status_code == 404
    assert "1101**********1233" not in client.get(reverse("portal:identity")).content.decode()
    client.force_login(applicant)
    response = client.get(reverse("portal:identity_document", args=[v.pk]))
    assert response.status_code == 200 and response.content == PNG


def test_console_review_approves_through_the_service(client, staff, applicant):
    v = identity.submit_individual(applicant, name="张三", id_number=ID)
    client.force_login(staff)
    page = client.get(reverse("admin:identity_verification_change", args=[v.pk]))
    assert page.status_code == 200 and ID not in page.content.decode() and "1101**********1233" in page.content.decode()
    client.post(reverse("admin:identity_verification_review", args=[v.pk]), {"decision": "reject", "reason": ""})
    v.refresh_from_db()
    assert v.status == VerificationStatus.PENDING  # a rejection without reason changes nothing
    client.post(reverse("admin:identity_verification_review", args=[v.pk]), {"decision": "approve"})
    v.refresh_from_db()
    assert v.status == VerificationStatus.APPROVED and v.reviewed_by == staff


def test_console_reject_action_asks_for_a_reason(client, staff, applicant):
    v = identity.submit_individual(applicant, name="张三", id_number=ID)
    client.force_login(staff)
    url = reverse("admin:identity_verification_changelist")
    page = client.post(url, {"action": "reject_selected", "_selected_action": [v.pk]})
    assert page.status_code == 200 and "reason" in page.content.decode()
    client.post(url, {"action": "reject_selected", "_selected_action": [v.pk], "apply": "1", "reason": "证件过期"})
    v.refresh_from_db()
    assert (v.status, v.reason) == (VerificationStatus.REJECTED, "证件过期")


def test_showing_the_full_number_is_logged(client, staff, applicant):
    v = with_document(applicant)
    client.force_login(staff)
    url = reverse("admin:identity_verification_reveal", args=[v.pk])
    assert ID not in client.get(url).content.decode() and not DataAccess.objects.exists()
    page = client.post(url, {"reason": "核对用户投诉"}, REMOTE_ADDR="198.51.100.4")
    assert ID in page.content.decode()
    access = DataAccess.objects.get()
    assert (access.staff, access.subject, access.field, access.reason, access.ip) == (
        staff, applicant, "identity_number", "核对用户投诉", "198.51.100.4")
    document = client.get(reverse("admin:identity_verification_document", args=[v.pk]), {"reason": "核对证件"})
    assert document.content == PNG and DataAccess.objects.count() == 2


def test_customers_cannot_reach_the_console(client, applicant):
    v = identity.submit_individual(applicant, name="张三", id_number=ID)
    client.force_login(applicant)
    response = client.post(reverse("admin:identity_verification_reveal", args=[v.pk]), {"reason": "x"})
    assert response.status_code == 302 and not DataAccess.objects.exists()


def api_for(user) -> APIClient:
    client = IdempotentAPIClient()
    client.force_authenticate(user)
    return client


def test_api_status_and_submit(applicant):
    api = api_for(applicant)
    assert api.get("/api/v1/identity/").json()["status"] == "none"
    bad = api.post("/api/v1/identity/individual/", {"name": "张三", "id_number": "110101199003071234"}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "id_number"
    created = api.post("/api/v1/identity/individual/", {"name": "张三", "id_number": ID}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["kind"], body["masked_number"], body["verified"]) == (
        "pending", "individual", "1101**********1233", False)
    assert ID not in str(body)


def test_api_enterprise_needs_a_licence_and_other_users_see_nothing(applicant, catalogue):
    api = api_for(applicant)
    response = api.post("/api/v1/identity/enterprise/", {
        "company_name": "示例公司", "credit_code": "91110108MA01ABCD5T", "legal_representative": "张三"})
    assert response.status_code == 400 and response.json()["field"] == "document"
    response = api.post("/api/v1/identity/enterprise/", {
        "company_name": "示例公司", "credit_code": "91110108MA01ABCD5T", "legal_representative": "张三",
        "document": SimpleUploadedFile("l.png", PNG, content_type="image/png")}, format="multipart")
    assert response.status_code == 201 and response.json()["kind"] == "enterprise"
    other = testing.make_customer("eve@example.com", verified=False)
    assert api_for(other).get("/api/v1/identity/").json()["masked_number"] is None


def test_api_unverified_order_in_the_mainland_is_refused_with_the_link(applicant):
    response = api_for(applicant).post(
        "/api/v1/orders/", {"region": "cn-ganzhou", "plan": "s1", "image": "debian-12", "cycle": "monthly"},
        format="json", HTTP_IDEMPOTENCY_KEY="id-1")
    assert response.status_code == 409
    assert response.json()["code"] == "real_name_required" and "/identity/" in response.json()["message"]
