"""`{% open_restrictions user as restrictions %}`: the user's restrictions in force, for the portal partial."""

from django import template

from wuji.accounts import restrictions

register = template.Library()


@register.simple_tag
def open_restrictions(user):
    return list(restrictions.open_restrictions_of(user))
