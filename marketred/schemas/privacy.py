"""A buyer's rights over their personal data (Ley 21.719): access and portability (a JSON
export), rectification, erasure. docs/privacy.md says what is kept after an erasure."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, EmailStr, Field

from marketred.schemas.common import StrictModel

EXPORT_FORMAT = "marketred.personal-data/1"


class CorrectAccount(StrictModel):
    """Fields left out stay as they are; a new email must be verified again."""

    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


class EraseAccount(StrictModel):
    """Erasure cannot be undone: the account's password confirms it (accounts that only
    sign in through InforedChile type their email instead)."""

    password: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)


class ExportedAccount(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    created_at: datetime
    email_verified_at: datetime | None
    signs_in_with_directory: bool


class ExportedQuote(BaseModel):
    id: uuid.UUID
    number: str
    vendor: str
    status: str
    created_at: datetime
    total: int
    currency: str
    note: str
    contact: dict[str, Any]
    lines: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


class ExportedCartItem(BaseModel):
    vendor: str
    variant_id: uuid.UUID
    quantity: int


class ExportedSession(BaseModel):
    created_at: datetime
    last_seen_at: datetime
    method: str
    ended: bool


class PersonalDataExport(BaseModel):
    format: str = EXPORT_FORMAT
    exported_at: datetime
    account: ExportedAccount
    quotes: list[ExportedQuote]
    carts: list[ExportedCartItem]
    sessions: list[ExportedSession]
    api_tokens: list[str]


class ErasureOut(BaseModel):
    erased_at: datetime
    quotes_kept: int = Field(description="quotes kept for accounting, without personal data")
