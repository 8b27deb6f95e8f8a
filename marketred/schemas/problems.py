"""RFC 9457 problem details, the body of every API error."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Reason(str):
    """An English sentence with the stable code and parameters it was made from: equal
    to, and printed as, its sentence (what API clients read); pages find their own words
    by the code (web/service_messages.py). Services raise them in domain errors; a
    workflow's rules return them, and its refusals carry code and params in the
    ApplicationError's details (`refusal_details`)."""

    code: str
    params: dict[str, str | int]

    def __new__(cls, code: str, text: str, **params: str | int) -> Reason:
        reason = super().__new__(cls, text)
        reason.code = code
        reason.params = dict(params)
        return reason


def code_of(message: str) -> str | None:
    return message.code if isinstance(message, Reason) else None


def params_of(message: str) -> dict[str, str | int]:
    return dict(message.params) if isinstance(message, Reason) else {}


def refusal_details(why: str) -> list[dict[str, Any]]:
    """The details of a workflow's ApplicationError refusing for `why`: its code and
    params when it has them (read back by services/workflow_errors.py)."""
    if not isinstance(why, Reason):
        return []
    return [{"code": why.code, "params": dict(why.params)}]


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
