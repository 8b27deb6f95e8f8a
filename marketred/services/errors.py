"""Domain errors. Each carries its HTTP status; one API handler turns any of them into
problem+json, so services never know about HTTP."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type = "about:blank"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        # A stable machine-readable reason (problem+json `code`), e.g. NO_ANSWER.
        self.code = code
        self.errors = errors or []
        self.headers = headers or {}


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class InvalidInput(DomainError):
    """Input that parses but breaks a rule (422 with the offending field)."""

    status = 422
    title = "Unprocessable content"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"
