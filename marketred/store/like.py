"""LIKE patterns from what a person typed: their `%` and `_` are literal characters,
not wildcards (a search for "100%" must not match everything). PostgreSQL's default
LIKE escape character is the backslash."""

from __future__ import annotations


def contains(text: str) -> str:
    """`%text%` with `\\`, `%` and `_` in `text` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
