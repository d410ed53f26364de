"""A list's read path on `.values()` rows, serialised by the serializer's own fields (decision 0055).

Serialising model instances, a list request spends most of its time building objects (a server comes with its
region, plan and image: four objects per row) and walking DRF's per-field attribute lookups. `ValuesSerializer`
reads the same columns as dictionaries and turns each value into JSON with the very field that the serializer
declares (`field.to_representation`), so the output is the serializer's, byte for byte; the serializer class stays
what the schema documents and what the detail view uses. A test holds the two outputs equal row for row.

Supported fields: plain model fields and annotations (read by their `source`) and SlugRelatedField (read as
`<source>__<slug_field>` in the same query). Anything else (methods, nested serializers, dotted sources) is
refused when the class is built, not silently mis-rendered.
"""

from rest_framework import serializers


class ValuesSerializer:
    def __init__(self, serializer_class: type[serializers.Serializer]):
        self.serializer_class = serializer_class
        self._columns: list[tuple[str, str, object]] | None = None

    @property
    def columns(self) -> list[tuple[str, str, object]]:
        """(output name, values() key, converter or None) per readable field, built on first use (the fields
        need the app registry) and kept: the fields' to_representation is stateless for these field types."""
        if self._columns is None:
            columns = []
            for name, field in self.serializer_class().fields.items():
                if field.write_only:
                    continue
                if isinstance(field, serializers.SlugRelatedField):
                    columns.append((name, f"{field.source}__{field.slug_field}", None))
                elif isinstance(field, (serializers.SerializerMethodField, serializers.BaseSerializer,
                                        serializers.RelatedField)) or "." in field.source or field.source == "*":
                    raise TypeError(f"{self.serializer_class.__name__}.{name}: not readable from .values() rows")
                else:
                    columns.append((name, field.source, field.to_representation))
            self._columns = columns
        return self._columns

    def values(self, queryset):
        """The queryset as dictionaries holding exactly the columns the fields read."""
        return queryset.values(*dict.fromkeys(key for _name, key, _convert in self.columns))

    def represent(self, rows) -> list[dict]:
        columns = self.columns
        return [{name: value if (value := row[key]) is None or convert is None else convert(value)
                 for name, key, convert in columns} for row in rows]
