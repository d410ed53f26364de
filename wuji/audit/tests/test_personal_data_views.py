"""Clause 5.2 / PIPL art. 51: each time staff open a console page showing one person's data, the staff
data-access log gets a line first; list pages, saves and one's own account are not logged as such."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from wuji.accounts.models import LoginRecord
from wuji.audit.models import DataAccess
from wuji.core import testing
from wuji.identity.models import Verification
from wuji.payments.tests.helpers import staff


def test_opening_a_customers_account_page_is_logged_each_time(admin_client, admin_user, customer):
    url = reverse("admin:accounts_user_change", args=[customer.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url).status_code == 200
    rows = DataAccess.objects.filter(subject=customer)
    assert rows.count() == 2
    row = rows.first()
    assert (row.staff, row.field, row.target_type, row.target_id) == (admin_user, "account_profile", "user",
                                                                      str(customer.pk))
    assert row.ip == "127.0.0.1" and row.reason == "在控制台查看"
    admin_client.get(reverse("admin:accounts_user_changelist"))
    admin_client.get(reverse("admin:accounts_user_change", args=[admin_user.pk]))  # one's own account
    assert DataAccess.objects.count() == 2


def test_verification_and_login_record_pages_are_logged_against_their_person(admin_client, catalogue):
    customer = testing.make_customer("carol@example.com")  # verified: has a Verification
    verification = Verification.objects.get(user=customer)
    assert admin_client.get(reverse("admin:identity_verification_change", args=[verification.pk])).status_code == 200
    record = LoginRecord.objects.create(user=customer, identifier=customer.email, event="login", result="success",
                                        ip="198.51.100.4", created_at=verification.submitted_at)
    assert admin_client.get(reverse("admin:accounts_loginrecord_change", args=[record.pk])).status_code == 200
    assert list(DataAccess.objects.filter(subject=customer).order_by("pk").values_list("field", flat=True)) == [
        "verification", "login_record"]


def test_staff_without_the_view_permission_leave_no_line_and_see_nothing(client, customer):
    clerk = staff("clerk@wuji.test")
    client.force_login(clerk)
    assert client.get(reverse("admin:accounts_user_change", args=[customer.pk])).status_code in (302, 403)
    assert not DataAccess.objects.exists()
    clerk.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert client.get(reverse("admin:accounts_user_change", args=[customer.pk])).status_code == 200
    assert DataAccess.objects.get().staff == clerk
