"""Filtering and ordering conventions of /api/v1/ lists (decision 0043).

Filters are django-filter FilterSets (`filterset_fields` or `filterset_class` on the view); a value that does
not parse is refused with 400 naming the parameter. `?ordering=a,-b` accepts only the view's declared
`ordering_fields`; anything else is refused (400, field "ordering") rather than silently ignored, so a script
with a typo learns it instead of reading rows in an order it did not ask for. Ordering fields must be
non-null columns of the model itself: the cursor stores the first ordering field's value.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter

from .errors import ApiError


class YesNoField(forms.NullBooleanField):
    """true/false or 1/0; anything else is refused (django-filter's default reads it as "no filter")."""

    widget = forms.TextInput
    default_error_messages = {"invalid": gettext_lazy("请填写 true 或 false。")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value) -> None:
        pass


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class FilterSet(django_filters.FilterSet):
    """Base of the API's FilterSets (and of those made from `filterset_fields`): strict booleans."""

    FILTER_DEFAULTS = {**django_filters.FilterSet.FILTER_DEFAULTS, models.BooleanField: {"filter_class": YesNoFilter}}


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the request names none of the view's filters: the FilterSet would
    build and validate a form only to filter nothing (a tenth of a list request's time, decision 0055). The API's
    FilterSets have no defaults and no method filters, so an absent parameter filters nothing either way."""

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(name in request.query_params
                                              for name in filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class StrictOrderingFilter(OrderingFilter):
    """DRF's OrderingFilter limited to the view's `ordering_fields` (no default to the serializer's fields)."""

    ordering_description = "comma-separated fields to order by, `-` for descending (e.g. `-created_at`)"

    def get_valid_fields(self, queryset, view, context=None) -> list[tuple[str, str]]:
        return [(name, name) for name in getattr(view, "ordering_fields", None) or ()]

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if not params:
            return self.get_default_ordering(view)
        terms = [term.strip() for term in params.split(",") if term.strip()]
        allowed = [name for name, _label in self.get_valid_fields(queryset, view)]
        unknown = [term for term in terms if term.lstrip("-") not in allowed]
        if unknown or not terms:
            raise ApiError(
                _("不支持按“%(field)s”排序。可用的排序字段：%(allowed)s。")
                % {"field": (unknown or [params])[0], "allowed": ", ".join(allowed) or _("无")},
                code="invalid_ordering", field=self.ordering_param)
        return terms

    def get_schema_operation_parameters(self, view) -> list[dict]:
        allowed = getattr(view, "ordering_fields", None) or ()
        if not allowed:
            return []
        return [{
            "name": self.ordering_param,
            "required": False,
            "in": "query",
            "description": f"{self.ordering_description}; one of: {', '.join(allowed)}",
            "schema": {"type": "string"},
        }]


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC: Python accepts UTC offsets up to ±23:59, PostgreSQL only up to
    ±15:59, so an offset such as -21:15 sent as it is would fail in the database instead of filtering."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.astimezone(dt.UTC) if value is not None and value.tzinfo is not None else value


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IdField(forms.IntegerField):
    """A row id: a whole number in the id column's range (BigAutoField), else 400 naming the parameter."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=2**63 - 1, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """Filters by a related row's id as a plain value (never a model choice, which would tell existing ids of
    other customers from missing ones)."""

    field_class = IdField


def after(field: str) -> UtcIsoDateTimeFilter:
    """`<name>_after`: rows at or after an ISO 8601 instant (e.g. 2026-11-01T00:00:00+08:00)."""
    return UtcIsoDateTimeFilter(field_name=field, lookup_expr="gte",
                                label=f"{field} at or after this instant (ISO 8601)")


def before(field: str) -> UtcIsoDateTimeFilter:
    """`<name>_before`: rows strictly before an ISO 8601 instant, so consecutive ranges do not overlap."""
    return UtcIsoDateTimeFilter(field_name=field, lookup_expr="lt",
                                label=f"{field} before this instant (ISO 8601)")
