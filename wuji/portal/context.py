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
    "instructions": "instructions",
    "api_keys": "api_keys",
}


def platform(request):
    match = getattr(request, "resolver_match", None)
    section = SECTIONS.get(match.url_name, "") if match and match.namespace == "portal" else ""
    return {"SANDBOX_PAYMENTS": settings.WUJI_SANDBOX_PAYMENTS, "portal_section": section}
