"""Filters of the payments lists (decision 0043); the querysets are the caller's own rows already."""


from wuji.api.filtering import FilterSet, after, before

from ..models import BankTransfer, Withdrawal


class BankTransferFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = BankTransfer
        fields = ["status"]


class WithdrawalFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Withdrawal
        fields = ["status"]
