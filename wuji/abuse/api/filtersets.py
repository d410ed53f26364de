"""Filters of the caller's abuse cases (decision 0043); the queryset is the caller's own cases already."""


from wuji.api.filtering import FilterSet, after, before

from ..models import Case


class CaseFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Case
        fields = ["status", "category"]
