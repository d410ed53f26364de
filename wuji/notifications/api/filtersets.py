"""Filters of the inbox (decision 0043); the queryset is the caller's own notices already."""

from wuji.api.filtering import FilterSet, YesNoFilter, after, before

from ..models import Notice


class NoticeFilterSet(FilterSet):
    unread = YesNoFilter(field_name="read_at", lookup_expr="isnull",
                         label="true: unread notices only; false: read ones only")
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Notice
        fields = ["kind", "mandatory"]
