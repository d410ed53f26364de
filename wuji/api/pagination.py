"""Cursor pagination for every list of /api/v1/ (decision 0043): `{"next", "previous", "results"}`.

The cursor is the position of the last row read (keyset pagination): the values of every ordering column, and
the list's id is always the last of them, so the position is unique. The next page is "the rows after that
position", found through the index without a COUNT and without an OFFSET over the rows before it; rows inserted
or deleted while a client pages neither shift nor repeat the rows it has still to read. DRF's CursorPagination
keys on the first ordering column only and falls back to an offset among equal values, which does shift under
inserts when many rows share a value (a status, a second): hence this subclass. `?ordering=` (see
`wuji.api.filtering`) is honoured; a cursor made under another ordering is refused.
"""

import base64
import binascii
import dataclasses
import json
from functools import reduce

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .errors import ApiError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
TIE_BREAKERS = {"id", "-id", "pk", "-pk", "seq", "-seq"}


def invalid_cursor() -> ApiError:
    return ApiError(_("分页游标无效，请使用上一页响应中 next 或 previous 给出的链接。"), code="invalid_cursor",
                    field="cursor")


@dataclasses.dataclass(frozen=True)
class Position:
    """A row's place in the ordering; `backwards` reads the rows before it (a `previous` link)."""

    values: tuple[str, ...]
    backwards: bool = False

    def encode(self) -> str:
        raw = json.dumps({"p": list(self.values), "b": int(self.backwards)}, ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Position":
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            values, backwards = data["p"], data.get("b", 0)
        except (binascii.Error, ValueError, TypeError, KeyError) as exc:
            raise invalid_cursor() from exc
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values) or backwards not in (0, 1):
            raise invalid_cursor()
        return cls(tuple(values), bool(backwards))


def as_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def beyond(ordering: tuple[str, ...], values: tuple[str, ...]) -> Q:
    """Rows strictly after `values` in `ordering`: (a > x) or (a = x and b > y) or …, each term in its direction."""
    clauses, equal = [], Q()
    for term, value in zip(ordering, values, strict=True):
        name = term.lstrip("-")
        clauses.append(equal & Q(**{f"{name}__{'lt' if term.startswith('-') else 'gt'}": value}))
        equal &= Q(**{name: value})
    return reduce(lambda a, b: a | b, clauses)


class CursorPage(CursorPagination):
    """Pages of `?page_size=` rows (default 50, at most 100) in the view's ordering (`ordering`, else newest id
    first), stepped through with the `next` and `previous` links."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-id",)
    page_size_query_description = f"rows per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE})"
    cursor_query_description = "the opaque cursor from a previous page's `next` or `previous` link"

    def get_page_size(self, request) -> int:
        """A page size that is not a whole number from 1 to 100 is refused, not silently replaced."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ApiError(_("page_size 须为 1 至 %(max)s 之间的整数。") % {"max": self.max_page_size},
                           code="invalid", field=self.page_size_query_param)
        return int(raw)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = super().get_ordering(request, queryset, view)
        if not TIE_BREAKERS & set(ordering):
            ordering = (*ordering, "-id" if ordering[0].startswith("-") else "id")
        return ordering

    def decode_cursor(self, request) -> Position | None:
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None
        position = Position.decode(token)
        if len(position.values) != len(self.ordering):
            raise invalid_cursor()  # made under another ?ordering=
        return position

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        backwards = bool(self.cursor and self.cursor.backwards)
        ordering = tuple(t[1:] if t.startswith("-") else f"-{t}" for t in self.ordering) if backwards else self.ordering
        queryset = queryset.order_by(*ordering)
        try:
            if self.cursor is not None:
                queryset = queryset.filter(beyond(ordering, self.cursor.values))
            rows = list(queryset[:self.page_size + 1])
        except (DjangoValidationError, ValueError, TypeError) as exc:  # a forged value of the wrong type
            raise invalid_cursor() from exc
        more = len(rows) > self.page_size
        self.page = rows[:self.page_size]
        if backwards:
            self.page.reverse()
        self.has_next = more if not backwards else True
        self.has_previous = more if backwards else self.cursor is not None
        self.display_page_controls = self.has_next or self.has_previous
        return self.page

    def position_of(self, row, *, backwards: bool) -> str:
        """`row`: a model instance, or a dictionary from `.values()` (wuji.api.rows)."""
        read = row.__getitem__ if isinstance(row, dict) else row.__getattribute__
        values = tuple(as_text(read(term.lstrip("-"))) for term in self.ordering)
        return Position(values, backwards).encode()

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param,
                                   self.position_of(self.page[-1], backwards=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.page:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param,
                                   self.position_of(self.page[0], backwards=True))


class WholeList(BasePagination):
    """For the few lists computed in Python and short by nature (prices in force, signed-in sessions): the same
    envelope as a cursor page, with everything on it and no further page."""

    def paginate_queryset(self, queryset, request, view=None):
        return list(queryset)

    def get_paginated_response(self, data) -> Response:
        return Response({"next": None, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "always null"},
                "previous": {"type": "string", "nullable": True, "format": "uri", "description": "always null"},
                "results": schema,
            },
        }
