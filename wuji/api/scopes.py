"""API key scopes: which mutating route needs which scope (decision 0041).

Every key may read (GET, HEAD, OPTIONS) all of its owner's data. A mutating request through a key needs the
scope of the route it calls, looked up here by URL name. The table is the one place to look: a test built from
the URL configuration fails when a mutating route under /api/v1/ is missing from it, so a new endpoint cannot
be forgotten. A route that is missing anyway is refused (fail closed), never allowed.

Session-authenticated requests (the portal's own use of the API) are not scope-limited.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    SERVERS = "servers", _("服务器")
    BILLING = "billing", _("费用与财务")
    ACCOUNT = "account", _("账户管理")


SERVERS, BILLING, ACCOUNT = Scope.SERVERS.value, Scope.BILLING.value, Scope.ACCOUNT.value

# URL name under the `api` namespace -> the scope a mutating request to it needs.
ROUTE_SCOPES: dict[str, str] = {
    # Orders, servers and their operations, snapshots, console, IPs, pushes
    "api:order-list": SERVERS,
    "api:payg-server-list": SERVERS,
    "api:server-start": SERVERS,
    "api:server-stop": SERVERS,
    "api:server-reboot": SERVERS,
    "api:server-reinstall": SERVERS,
    "api:server-reset-password": SERVERS,
    "api:server-bind-ip": SERVERS,
    "api:server-unbind-ip": SERVERS,
    "api:server-console": SERVERS,
    "api:server-snapshot-list": SERVERS,
    "api:server-snapshot-detail": SERVERS,
    "api:server-snapshot-revert": SERVERS,
    "api:push-list": SERVERS,
    "api:push-accept": SERVERS,
    "api:push-cancel": SERVERS,
    "api:push-decline": SERVERS,
    # Money: top-ups, bank transfers, withdrawals, bank accounts, fapiao, contracts, subscriptions, freezes
    "api:topup-list": BILLING,
    "api:bank-transfer-list": BILLING,
    "api:bank-account-list": BILLING,
    "api:bank-account-detail": BILLING,
    "api:withdrawal-list": BILLING,
    "api:withdrawal-cancel": BILLING,
    "api:fapiao-list": BILLING,
    "api:fapiao-cancel": BILLING,
    "api:contract-list": BILLING,
    "api:subscription-renew": BILLING,
    "api:subscription-auto-renew": BILLING,
    "api:subscription-change-plan": BILLING,
    "api:subscription-change-plan-quote": BILLING,
    "api:freeze-appeal": BILLING,
    # The account: profile, sessions, tickets, notifications, agreement, ICP filings, identity, data rights,
    # abuse-case replies. Cancellation also needs step-up verification in the body (decision 0031).
    "api:account-profile": ACCOUNT,
    "api:session-detail": ACCOUNT,
    "api:session-end-all": ACCOUNT,
    "api:api-key-revoke": ACCOUNT,
    "api:ticket-list": ACCOUNT,
    "api:ticket-messages": ACCOUNT,
    "api:ticket-close": ACCOUNT,
    "api:ticket-reopen": ACCOUNT,
    "api:ticket-rating": ACCOUNT,
    "api:notification-preferences": ACCOUNT,
    "api:notification-consent": ACCOUNT,
    "api:notice-read": ACCOUNT,
    "api:notice-read-all": ACCOUNT,
    "api:agreement-accept": ACCOUNT,
    "api:icp-filing-list": ACCOUNT,
    "api:icp-filing-withdraw": ACCOUNT,
    "api:identity-individual": ACCOUNT,
    "api:identity-enterprise": ACCOUNT,
    "api:account-data-export": ACCOUNT,
    "api:account-cancel": ACCOUNT,
    "api:abuse-case-replies": ACCOUNT,
}


def scope_for(view_name: str | None) -> str | None:
    """The scope a mutating request to this route needs; None when the route is not in the table."""
    return ROUTE_SCOPES.get(view_name or "")


def label_of(scope: str) -> str:
    return str(Scope(scope).label) if scope in Scope.values else scope
