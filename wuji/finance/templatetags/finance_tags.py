"""Badges for fapiao and contract statuses (the portal's badge filter covers its own choice sets)."""

from django import template
from django.utils.html import format_html

from ..choices import ContractStatus, FapiaoStatus, FapiaoType

register = template.Library()

SETS = {"fapiao": FapiaoStatus, "contract": ContractStatus, "fapiao_type": FapiaoType}


@register.filter
def finance_badge(value, choice_set: str):
    choices = SETS[choice_set]
    return format_html('<span class="badge badge-{}">{}</span>', choices.colour(value), choices.label(value))
