"""Output for people (aligned tables, Chinese characters counted as two columns) and for scripts (JSON)."""

from __future__ import annotations

import json
import unicodedata


def width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return " ".join(str(value).split())  # a newline would break the row


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as aligned columns under a header; `columns` picks and orders them (default: the first row's
    keys whose values are not nested)."""
    if not rows:
        return "(none)"
    if columns is None:
        columns = [k for k, v in rows[0].items() if not isinstance(v, dict | list)] or list(rows[0])
    cells = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(width(text) for text in [column, *(r[i] for r in cells)]) for i, column in enumerate(columns)]
    lines = [[column.upper() for column in columns], *cells]
    return "\n".join("  ".join(pad(text, widths[i]) for i, text in enumerate(line)).rstrip() for line in lines)


def record(data: dict) -> str:
    """One object as two columns: field and value."""
    if not data:
        return "(empty)"
    names = max(width(name) for name in data)
    return "\n".join(f"{pad(name, names)}  {cell(value)}" for name, value in data.items())


def as_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def render(data, *, output: str, columns: list[str] | None = None) -> str:
    if output == "json":
        return as_json(data)
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, list):
        if all(isinstance(row, dict) for row in data):
            return table(data, columns)
        return "\n".join(cell(item) for item in data)
    if isinstance(data, dict):
        return record(data)
    return "" if data is None else str(data)
