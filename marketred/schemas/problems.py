"""RFC 9457 problem details, the body of every API error."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str
    message: str
    # Stable reason of this field's error (the message is its English sentence).
    code: str | None = None


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    # Stable reason for clients to branch on (e.g. NO_ANSWER: retry shortly).
    code: str | None = None
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)
