from django import template

from .. import services

register = template.Library()


@register.inclusion_tag("identity/_real_name_notice.html", takes_context=True)
def real_name_notice(context, region=None):
    """On the buy pages: where real-name verification is required and this account is not verified (2.1.2)."""
    user = context["request"].user
    if not user.is_authenticated:
        return {"show": False}
    restricted = services.is_restricted(user)
    if services.is_verified(user) and not restricted:
        return {"show": False}
    if region is not None:
        required = services.region_requires_verification(region)
    else:
        from wuji.catalog import services as catalog

        required = any(services.region_requires_verification(r) for r in catalog.regions())
    return {"show": required or restricted, "restricted": restricted, "region": region,
            "pending": services.status_of(user).pending is not None}
