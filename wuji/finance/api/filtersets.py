"""Filters of the fapiao and contract lists (decision 0043); the querysets are the caller's own rows already."""


from wuji.api.filtering import FilterSet, after, before

from ..models import FapiaoApplication


class FapiaoFilterSet(FilterSet):
    applied_after = after("applied_at")
    applied_before = before("applied_at")

    class Meta:
        model = FapiaoApplication
        fields = ["status", "fapiao_type", "medium"]
