"""Filters of the customer's public IP list (decision 0043): plain values over the caller's own rows."""

import django_filters

from wuji.api.filtering import FilterSet, IdFilter
from wuji.network.models import IpAllocation


class PublicIpFilterSet(FilterSet):
    server = IdFilter(field_name="server_id", label="server id")
    region = django_filters.CharFilter(field_name="server__region__code", label="region code")

    class Meta:
        model = IpAllocation
        fields = ["state"]
