"""Filters of the ticket list (decision 0043); the queryset is the caller's own tickets already."""


from wuji.api.filtering import FilterSet, IdFilter, after, before

from ..models import Ticket


class TicketFilterSet(FilterSet):
    # A number, not a model choice: a choice would tell another customer's existing server ids from missing ones.
    server = IdFilter(field_name="server_id", label="server id")
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Ticket
        fields = ["status", "category", "priority"]
