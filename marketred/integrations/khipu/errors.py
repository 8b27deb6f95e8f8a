"""Typed errors of the Khipu client.

Every error keeps Khipu's `message`, its `errors[]` field list and the raw body, because
Khipu documents no error schema for v3 (reference §5) and an operator may need the text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class KhipuError(Exception):
    """Base of every Khipu failure. `status` is None when no HTTP answer arrived."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[FieldError, ...] = (),
        raw_body: str = "",
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors
        self.raw_body = raw_body
        self.operation = operation

    def __str__(self) -> str:
        prefix = f"{self.operation}: " if self.operation else ""
        code = f"HTTP {self.status}: " if self.status is not None else ""
        fields = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{prefix}{code}{self.message}" + (f" ({fields})" if fields else "")


class KhipuValidationError(KhipuError):
    """400: Khipu refused the request; `errors` names the fields."""


class KhipuAuthError(KhipuError):
    """401 (missing/unknown key) or 403 (operation not allowed for this account)."""


class KhipuNotFound(KhipuError):
    """404: no such payment (or it was deleted)."""


class KhipuServerError(KhipuError):
    """5xx. For a create the payment may or may not exist: the caller must resolve it."""


class KhipuTimeout(KhipuError):
    """No answer in time. For a create the outcome is unknown: the caller must resolve it."""


class KhipuUnavailable(KhipuError):
    """The connection failed before Khipu could answer (refused, reset, DNS)."""


class KhipuSignatureError(KhipuError):
    """A webhook's `x-khipu-signature` is missing, malformed, stale or does not match."""
