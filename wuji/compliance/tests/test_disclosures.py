"""Disclosure register (5.2): four eyes, legal basis, reasons, the export's content and checksum, the logged
download and the console's permission boundaries."""

import datetime as dt
import hashlib
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from wuji.accounts.choices import LoginEvent
from wuji.accounts.security_models import LoginRecord
from wuji.audit.models import DataAccess, Instruction
from wuji.compliance import services
from wuji.compliance.choices import DataCategory, DisclosureStatus, LegalBasis
from wuji.compliance.models import Disclosure
from wuji.core import clock
from wuji.core.private_files import decrypted_bytes


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"
    return tmp_path / "private"


def make_staff(email: str, *codenames: str):
    user = get_user_model().objects.create_user(email=email, password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="compliance", codename__in=codenames))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def requester(db):
    return make_staff("requester@example.com", "add_disclosure", "view_disclosure", "approve_disclosure")


@pytest.fixture
def approver(db):
    return make_staff("approver@example.com", "view_disclosure", "approve_disclosure", "download_disclosure_export")


def log_in_record(user, ip: str):
    LoginRecord.objects.create(user=user, identifier=user.email, event=LoginEvent.LOGIN, created_at=clock.now(),
                               ip=ip)


def request(subject, requester, *, categories=(DataCategory.CONTACT, DataCategory.LOGINS),
            legal_basis=LegalBasis.AUTHORITY) -> Disclosure:
    return services.request_disclosure(
        Disclosure(subject=subject, legal_basis=legal_basis, requester="某市公安局网安支队",
                   request_reference="公网调〔2026〕118号", categories=list(categories), purpose="协助调查"),
        actor=requester, ip="127.0.0.1")


def test_a_request_is_recorded_with_an_audit_instruction(customer, requester):
    disclosure = request(customer, requester)
    assert disclosure.status == DisclosureStatus.REQUESTED and disclosure.requested_by == requester
    assert Instruction.objects.get(action="disclosure.request").params["legal_basis"] == "5.2.3"


@pytest.mark.parametrize("field, kwargs", [
    ("legal_basis", {"legal_basis": ""}),
    ("legal_basis", {"legal_basis": "5.2.9"}),
    ("categories", {"categories": []}),
    ("categories", {"categories": ["passwords"]}),
])
def test_a_request_without_a_legal_basis_or_categories_is_refused(customer, requester, field, kwargs):
    with pytest.raises(ValidationError) as refused:
        request(customer, requester, **kwargs)
    assert field in refused.value.message_dict
    assert not Disclosure.objects.exists() and not Instruction.objects.filter(action="disclosure.request").exists()


def test_the_requester_cannot_approve_their_own_request(customer, requester, private_files):
    disclosure = request(customer, requester)
    with pytest.raises(services.DisclosureRefused):
        services.approve_disclosure(disclosure, actor=requester, reason="自己批准")
    disclosure.refresh_from_db()
    assert disclosure.status == DisclosureStatus.REQUESTED and not disclosure.export and not disclosure.export_sha256
    assert not private_files.exists() or not any(private_files.rglob("*.enc"))


def test_reject_needs_a_reason_and_generates_nothing(customer, requester, approver):
    disclosure = request(customer, requester)
    with pytest.raises(ValidationError):
        services.reject_disclosure(disclosure, actor=approver, reason="  ")
    assert Disclosure.objects.get(pk=disclosure.pk).status == DisclosureStatus.REQUESTED
    services.reject_disclosure(disclosure, actor=approver, reason="来文手续不全")
    disclosure.refresh_from_db()
    assert disclosure.status == DisclosureStatus.REJECTED and not disclosure.export
    with pytest.raises(services.DisclosureRefused):
        services.approve_disclosure(disclosure, actor=approver, reason="再批")


def test_approval_generates_an_export_of_exactly_the_chosen_categories_of_that_user(
        customer, other_customer, requester, approver):
    log_in_record(customer, "203.0.113.7")
    log_in_record(other_customer, "198.51.100.9")
    disclosure = services.approve_disclosure(request(customer, requester), actor=approver, reason="手续齐全")

    assert disclosure.status == DisclosureStatus.APPROVED and disclosure.decided_by == approver
    content = decrypted_bytes(disclosure.export)
    assert hashlib.sha256(content).hexdigest() == disclosure.export_sha256
    assert customer.email.encode() not in disclosure.export.open("rb").read()  # stored encrypted
    document = json.loads(content)
    assert set(document["data"]) == {DataCategory.CONTACT, DataCategory.LOGINS}
    assert document["subject"] == customer.pk and document["legal_basis"] == "5.2.3"
    assert document["data"]["contact"]["email"] == customer.email
    assert [row["ip"] for row in document["data"]["logins"]] == ["203.0.113.7"]
    assert other_customer.email not in content.decode() and "198.51.100.9" not in content.decode()
    approval = Instruction.objects.get(action="disclosure.approve")
    assert approval.actor == approver and approval.params["sha256"] == disclosure.export_sha256


def test_download_is_permission_bound_and_each_access_logged(client, customer, requester, approver):
    disclosure = services.approve_disclosure(request(customer, requester), actor=approver, reason="手续齐全")
    url = reverse("admin:compliance_disclosure_export", args=[disclosure.pk])

    client.force_login(customer)  # not staff: the console sends them to its login page
    assert client.post(url, {"reason": "看看"}).status_code == 302
    client.force_login(requester)  # staff without the download permission
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "看看"}).status_code == 403
    assert not DataAccess.objects.exists()

    client.force_login(approver)
    assert client.get(url).status_code == 200
    assert not DataAccess.objects.exists()  # the form alone reveals nothing
    response = client.post(url, {"reason": "移交来文单位"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert hashlib.sha256(response.content).hexdigest() == disclosure.export_sha256
    access = DataAccess.objects.get()
    assert (access.staff, access.subject, access.field, access.reason) == (
        approver, customer, "disclosure_export", "移交来文单位")


def test_console_request_form_and_four_eyes_actions(client, customer, requester, approver):
    client.force_login(requester)
    assert client.get(reverse("admin:compliance_disclosure_add")).status_code == 200
    response = client.post(reverse("admin:compliance_disclosure_add"), {
        "subject": customer.pk, "legal_basis": LegalBasis.CONSENT, "requester": "某律师事务所",
        "request_reference": "授权书 2026-11", "categories": [DataCategory.ORDERS, DataCategory.PROFILE],
        "purpose": "用户书面同意"})
    assert response.status_code == 302
    disclosure = Disclosure.objects.get()
    assert disclosure.requested_by == requester and disclosure.categories == ["profile", "orders"]

    changelist = reverse("admin:compliance_disclosure_changelist")
    action = {"action": "approve_selected", "_selected_action": [disclosure.pk], "apply": "1", "reason": "同意"}
    client.post(changelist, action)
    assert Disclosure.objects.get().status == DisclosureStatus.REQUESTED  # own request: refused

    client.force_login(approver)
    client.post(changelist, action)
    assert Disclosure.objects.get().status == DisclosureStatus.APPROVED
    page = client.get(reverse("admin:compliance_disclosure_change", args=[disclosure.pk])).content.decode()
    assert Disclosure.objects.get().export_sha256 in page and "账户资料、订单" in page
    assert "compliance/disclosures/" not in page  # no link to the stored file itself


def test_staff_without_the_register_permissions_cannot_use_it(client, customer, requester):
    plain_staff = make_staff("plain@example.com")
    client.force_login(plain_staff)
    assert client.get(reverse("admin:compliance_disclosure_changelist")).status_code == 403
    assert client.get(reverse("admin:compliance_disclosure_add")).status_code == 403


def test_the_export_is_reproducible_from_the_register(customer, requester, approver):
    """The checksum is of the plain bytes handed over; re-reading the stored file gives the same digest."""
    disclosure = services.approve_disclosure(
        request(customer, requester, categories=list(DataCategory.values())), actor=approver, reason="手续齐全")
    content = services.export_of(disclosure, staff=approver, reason="核对", ip=None)
    assert hashlib.sha256(content).hexdigest() == disclosure.export_sha256
    assert set(json.loads(content)["data"]) == set(DataCategory.values())
    assert dt.datetime.fromisoformat(json.loads(content)["data"]["profile"]["date_joined"])
