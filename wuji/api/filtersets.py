"""Filters of the core /api/v1/ lists (decision 0043). Each list's queryset is already the caller's own rows;
filters only narrow it, so no value can reach another customer's rows. Related objects are filtered by code or
id as plain values, never as model choices (which would query, and tell existing ids from missing ones)."""

import django_filters

from wuji.accounts.security_models import LoginRecord
from wuji.audit.models import Instruction
from wuji.billing.models import Order
from wuji.compute.models import Server
from wuji.ledger.models import Transaction
from wuji.payments.models import TopUp

from .filtering import FilterSet, IdFilter, YesNoFilter, after, before
from .models import ApiKey


class ServerFilterSet(FilterSet):
    region = django_filters.CharFilter(field_name="region__code", label="region code")
    plan = django_filters.CharFilter(field_name="plan__code", label="plan code")
    name_contains = django_filters.CharFilter(field_name="name", lookup_expr="icontains",
                                              label="name contains (case-insensitive)")
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Server
        fields = ["vm_state", "power_state", "task_state"]


class OrderFilterSet(FilterSet):
    # A number, not a model choice: a choice would look the id up among every customer's servers and answer
    # "not a valid choice" only for ids that do not exist, revealing which ones do.
    server = IdFilter(field_name="server_id", label="server id")
    region = django_filters.CharFilter(field_name="region__code", label="region code")
    plan = django_filters.CharFilter(field_name="plan__code", label="plan code")
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Order
        fields = ["cycle"]


class TransactionFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Transaction
        fields = ["kind"]


class TopUpFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = TopUp
        fields = ["status", "channel"]


class InstructionFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = Instruction
        fields = ["action", "channel", "result", "target_type", "target_id"]


class LoginRecordFilterSet(FilterSet):
    created_after = after("created_at")
    created_before = before("created_at")

    class Meta:
        model = LoginRecord
        fields = ["event", "result"]


class ApiKeyFilterSet(FilterSet):
    active = YesNoFilter(field_name="revoked_at", lookup_expr="isnull", label="not revoked")

    class Meta:
        model = ApiKey
        fields = []
