"""Reading typed form values the way Chileans write them (`$12.990`), and uploads."""

from __future__ import annotations

import re

from starlette.datastructures import UploadFile
from starlette.requests import Request

from marketred.schemas.money import MAX_PRICE
from marketred.services.errors import InvalidInput, Reason

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


async def read_upload(request: Request, name: str, limit: int) -> tuple[bytes, str]:
    """The file posted as `name` and its file name (b"" and "" when none). At most
    `limit` + 1 bytes are read: more than `limit` is too large, whatever the rest."""
    upload = (await request.form()).get(name)
    if not isinstance(upload, UploadFile):
        return b"", ""
    return await upload.read(limit + 1), upload.filename or ""


def refuse_empty(data: bytes, field: str) -> None:
    """An image form posted without a file: refused on `field` as the service would."""
    if not data:
        raise InvalidInput("no file", errors=[(field, Reason("PHOTO_EMPTY", "the file is empty"))])
