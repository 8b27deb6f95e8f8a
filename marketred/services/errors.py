"""Domain errors. Each carries its HTTP status; one API handler turns any of them into
problem+json, so services never know about HTTP.

What went wrong is told twice: an English sentence for API clients (`detail`, and the
message of each field error) and a stable `code` with the `params` the sentence was made
from. Pages find their own words by the code (web/service_messages.py), never by the
sentence, so a sentence can be reworded freely. A field error's message is a `Reason`
(schemas/problems.py, re-exported here): a str (its sentence, so API bodies and
comparisons are unchanged) that carries a code and params too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from marketred.schemas.problems import Reason as Reason
from marketred.schemas.problems import code_of as code_of
from marketred.schemas.problems import params_of as params_of

Params = Mapping[str, str | int]


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type = "about:blank"
    default_code: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        params: Params | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        # A stable machine-readable reason (problem+json `code`), e.g. NO_ANSWER; a
        # Reason as `detail` brings its own.
        self.code = code or code_of(detail) or self.default_code
        self.params: dict[str, str | int] = (
            dict(params) if params is not None else params_of(detail)
        )
        self.errors: list[tuple[str, str]] = list(errors or [])
        self.headers = headers or {}

    @property
    def reason(self) -> str:
        """The detail as a Reason (with this error's code and params) when it has a code."""
        if self.code is None:
            return self.detail
        return Reason(self.code, str(self.detail), **self.params)


class NotFound(DomainError):
    status = 404
    title = "Not found"
    default_code = "NOT_FOUND"


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
