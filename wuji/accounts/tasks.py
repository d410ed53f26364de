"""Accounts tasks: account mail sent after commit, the login-record retention job (clause 6.4) and the
contact-flag deadline job (clause 4.5.1)."""

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django_tasks import task

from wuji.core.scheduler import periodic


@task()
def send_account_mail(subject: str, body: str, to: list[str], html: str = "") -> str:
    """allauth's mails (address confirmation, password reset), rendered in the request, sent here."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
    return "sent"


@periodic("accounts.purge_login_records", every=dt.timedelta(days=1))
@task()
def purge_login_records() -> int:
    """Delete login records past the retention period (never less than 180 days)."""
    from . import services

    return services.purge_login_records()


@periodic("accounts.restrict_contact_overdue", every=dt.timedelta(minutes=15))
@task()
def restrict_contact_overdue() -> int:
    """Restrict accounts whose invalid contact was not fixed by its deadline (4.5.1)."""
    from . import contacts

    return contacts.restrict_overdue()
