"""Reading typed form values the way Chileans write them (`$12.990`)."""

from __future__ import annotations

import re

from marketred.schemas.money import MAX_PRICE

_CLP = re.compile(r"^\$?\s*(\d{1,3}(\.\d{3})+|\d+)$")


def parse_clp(raw: str | None, *, allow_zero: bool = True) -> int | None:
    """`12990`, `12.990`, `$12.990` → 12990; anything else (decimals, letters) → None."""
    text = (raw or "").strip()
    if not _CLP.match(text):
        return None
    value = int(text.lstrip("$").strip().replace(".", ""))
    if value > MAX_PRICE or (value == 0 and not allow_zero):
        return None
    return value


def parse_int(raw: str | None, low: int, high: int) -> int | None:
    try:
        value = int((raw or "").strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


def request_key(form: dict[str, str]) -> str | None:
    """The key of a form that changes a workflow: its nonce (made when the page was
    drawn), so the same form posted twice is one update; None when it has none."""
    nonce = form.get("nonce", "").strip()[:64]
    return f"web:{nonce}" if nonce else None
