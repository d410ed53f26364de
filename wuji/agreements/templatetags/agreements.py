from django import template

from .. import services

register = template.Library()


@register.simple_tag
def pending_agreement():
    """The published revision not yet in force, for the site-wide notice (clause 11), or None."""
    return services.pending_version()
