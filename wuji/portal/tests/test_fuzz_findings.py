"""Regressions for what the form fuzz (test_form_fuzz.py, issue 8) found: each was a 5xx on some input."""

import datetime as dt

from django.urls import reverse

from wuji.accounts.tests.helpers import enable_totp, totp
from wuji.agreements import services as agreements
from wuji.billing.models import Subscription
from wuji.core import clock
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction
from wuji.notifications import preferences
from wuji.notifications import services as notifications
from wuji.notifications.models import MarketingConsent
from wuji.payments import sandbox as sandbox_gateway
from wuji.payments import services as payments
from wuji.payments.choices import NoticeOutcome
from wuji.payments.models import PaymentNotice
from wuji.payments.tests import conftest as channels

from .conftest import buy_server


def test_a_sandbox_notice_signed_with_non_ascii_characters_is_refused_not_a_server_error(client, customer, sandbox):
    # hmac.compare_digest raised TypeError for a str signature with non-ASCII characters.
    topup = payments.create_topup(customer=customer, amount_fen=5000, channel="sandbox", ip=None)
    notice = dict(payments.sandbox_pay(topup), sign="签名")
    assert not sandbox_gateway.verify(notice)
    response = client.post(reverse("portal:sandbox_notify"), notice)
    assert response.status_code == 400 and response.content == b"fail"
    assert ledger.balances(customer)["cash"] == 100_00


def test_auto_renew_returns_to_a_posted_relative_next_that_is_not_a_view_name(alice_client, catalogue):
    # redirect("a b") tried to reverse "a b" as a view name: NoReverseMatch, a 500.
    server = buy_server(alice_client, catalogue)
    sub = Subscription.objects.get(server=server)
    response = alice_client.post(reverse("portal:subscription_auto_renew", args=[sub.pk]),
                                 {"enabled": "1", "next": "a b"})
    assert response.status_code == 302 and response.url == "a%20b"
    sub.refresh_from_db()
    assert sub.auto_renew
    response = alice_client.post(reverse("portal:subscription_auto_renew", args=[sub.pk]),
                                 {"enabled": "0", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("portal:server", args=[server.pk])


def test_step_up_returns_to_a_posted_next_that_is_not_a_view_name(alice_client, customer):
    # The same redirect("abc"), once verification succeeded.
    code = totp(enable_totp(customer))
    response = alice_client.post(reverse("portal:step_up"), {"operation": "data_export", "factor": "totp",
                                                             "secret": code, "verify": "1", "next": "abc"})
    assert response.status_code == 302 and response.url == "abc"


def test_accepting_the_agreement_returns_to_a_posted_next_that_is_not_a_view_name(alice_client, customer):
    # The same redirect("abc"), after accepting and on the page an account that needs no acceptance posts to.
    effective_at = clock.now() + agreements.notice_period() + dt.timedelta(minutes=1)
    revision = agreements.publish(version="next-test", title="武极云用户服务协议", body="**1.1** 修订。",
                                  effective_at=effective_at)
    clock.advance(agreements.notice_period() + dt.timedelta(hours=1))
    try:
        response = alice_client.post(reverse("portal:agreement_accept"), {
            "accept_agreement": "on", "agreement_version": revision.version, "next": "abc"})
        assert response.status_code == 302 and response.url == "abc"
        assert not agreements.needs_acceptance(customer)
        # Accepted already: the page sends the customer on at once, to the same kind of target.
        response = alice_client.post(reverse("portal:agreement_accept"), {"next": "xyz"})
        assert response.status_code == 302 and response.url == "xyz"
        response = alice_client.post(reverse("portal:agreement_accept"), {"next": "//evil.example/"})
        assert response.url == reverse("portal:dashboard")
    finally:
        clock.reset()


def test_marking_notices_read_ignores_ids_that_are_digits_but_not_ascii_or_too_long(alice_client, customer):
    # "²".isdigit() is true but int("²") raises ValueError: a 500. An id of 30 digits overflowed PostgreSQL's bigint.
    notice = notifications.inbox_of(customer).filter(read_at__isnull=True).first()
    assert notice is not None
    response = alice_client.post(reverse("portal:inbox_mark_read"), {"notice": ["²", "9" * 30, str(notice.pk)]})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_a_forged_alipay_notice_with_nul_characters_is_logged_and_refused(client, settings, db):
    # PostgreSQL stores no NUL in text or JSON: logging the refused notice raised DataError, a 500.
    settings.WUJI_ALIPAY_APP_ID, settings.WUJI_ALIPAY_SELLER_ID = "2021000123456789", "2088123456789012"
    settings.WUJI_ALIPAY_PRIVATE_KEY = channels.private_pem(channels.new_key())
    settings.WUJI_ALIPAY_PUBLIC_KEY = channels.public_pem(channels.new_key())
    transactions = Transaction.objects.count()
    response = client.post(reverse("portal:alipay_notify"), {"out_trade_no": "T1\x00", "seller_id": "\x00",
                                                              "sign_type": "RSA2", "sign": "\x00"})
    assert response.status_code == 400 and response.content == b"fail"
    notice = PaymentNotice.objects.get()
    assert notice.outcome == NoticeOutcome.REFUSED and not notice.verified
    assert notice.out_trade_no == "T1\ufffd" and notice.summary["seller_id"] == "\ufffd"
    assert Transaction.objects.count() == transactions


def test_withdrawing_marketing_consent_with_a_version_no_text_could_have_is_refused(alice_client, customer):
    # The portal stored the posted version as it came: over 32 characters (or with a NUL) PostgreSQL refused it, a 500.
    url = reverse("portal:notification_settings")
    for bad in ("v" * 33, "2026\x00"):
        response = alice_client.post(url, {"action": "withdraw", "text_version": bad})
        assert response.status_code == 302
        assert not MarketingConsent.objects.filter(user=customer).exists()
    alice_client.post(url, {"action": "grant", "text_version": preferences.CONSENT_TEXT_VERSION})
    alice_client.post(url, {"action": "withdraw", "text_version": preferences.CONSENT_TEXT_VERSION})
    recorded = MarketingConsent.objects.filter(user=customer).order_by("pk").values_list("granted", flat=True)
    assert list(recorded) == [True, False]
