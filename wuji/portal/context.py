from django.conf import settings

# Which top-bar entry is highlighted for each portal page.
SECTIONS = {
    "dashboard": "dashboard",
    "servers": "servers",
    "server": "servers",
    "buy": "buy",
    "buy_confirm": "buy",
    "wallet": "wallet",
    "sandbox_pay": "wallet",
    "topups": "wallet",
    "topup": "wallet",
    "bank_transfer": "wallet",
    "freezes": "wallet",
    "freeze": "wallet",
    "withdraw": "wallet",
    "subscription_renew": "servers",
    "subscription_change_plan": "servers",
    "payg_buy": "buy",
    "payg_meter": "servers",
    "finance": "finance",
    "instructions": "instructions",
    "api_keys": "api_keys",
    "inbox": "inbox",
    "identity": "identity",
    "security": "security",
    "profile": "security",
    "contact_change": "security",
    "security_question": "security",
    "sessions": "security",
    "login_records": "security",
    "report_unauthorised": "security",
    "step_up": "security",
    "pushes": "servers",  # issue 5: push
    "server_console": "servers",  # issue 5: console
    "icp_filings": "servers",  # issue 6: icp
}


def platform(request):
    match = getattr(request, "resolver_match", None)
    section = SECTIONS.get(match.url_name, "") if match and match.namespace == "portal" else ""
    unread = 0
    user = getattr(request, "user", None)
    if section and user is not None and user.is_authenticated:
        from wuji.notifications import services as notifications

        unread = notifications.inbox_of(user).filter(read_at__isnull=True).count()
    return {"SANDBOX_PAYMENTS": settings.WUJI_SANDBOX_PAYMENTS, "portal_section": section, "unread_notices": unread}
