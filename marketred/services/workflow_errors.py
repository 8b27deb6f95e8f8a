"""The one mapping from a workflow's refusal or failure of an update, and from an engine
that does not answer, to the domain errors the API and the pages show.

- The update failed with an ApplicationError: its `type` is the code (`NoAnswer` → 503
  NO_ANSWER, nothing changed; `QuoteInvalidInput` → 422 on the field in its details;
  any other → 409, coded by the refusal's own code when the workflow sent one in the
  details (a rule's Reason, e.g. DEADLINE_ALREADY_EXTENDED with its params), else by
  its type, e.g. `QuoteStateConflict` → QUOTE_STATE_CONFLICT) and its message the
  detail.
- The workflow is gone (NOT_FOUND): 409 with the caller's `when_closed`.
- The engine did not answer: 503 WORKFLOW_UNAVAILABLE.
"""

from __future__ import annotations

import re

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from marketred.schemas.quotes import QUOTE_INVALID_INPUT
from marketred.services.errors import Conflict, DomainError, InvalidInput, Reason, Unavailable

ENGINE_AWAY = "the workflow engine did not answer; try again shortly"


def code_of_type(error_type: str | None) -> str | None:
    """`QuoteStateConflict` → `QUOTE_STATE_CONFLICT`."""
    if not error_type:
        return None
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", error_type).upper()


def update_failed(exc: WorkflowUpdateFailedError) -> DomainError:
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return Conflict(str(cause or exc))
    message = cause.message
    if cause.type == "NoAnswer":
        # Khipu (or the database) did not answer in time; nothing changed.
        return Unavailable(message, code="NO_ANSWER")
    if cause.type == QUOTE_INVALID_INPUT:
        # Details: the field, then the rule's own code and params when it sent them.
        field = str(cause.details[0]) if cause.details else "body"
        coded = cause.details[1] if len(cause.details) > 1 else None
        why: str = message
        if isinstance(coded, dict) and isinstance(coded.get("code"), str):
            why = Reason(coded["code"], message, **dict(coded.get("params") or {}))
        return InvalidInput(message, errors=[(field, why)], code=code_of_type(cause.type))
    code, params = _code_and_params(cause)
    return Conflict(message, code=code, params=params)


def _code_and_params(cause: ApplicationError) -> tuple[str | None, dict[str, str | int]]:
    """A refusal's own code and params (workflows/quote_base.py puts a rule's Reason in the
    details), else the code of its type."""
    detail = cause.details[0] if cause.details else None
    if isinstance(detail, dict) and isinstance(detail.get("code"), str):
        return detail["code"], dict(detail.get("params") or {})
    return code_of_type(cause.type), {}


def engine_failed(exc: RPCError, *, when_closed: str) -> DomainError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        # The workflow has finished: the answer its validator would have given.
        return Conflict(when_closed)
    return Unavailable(ENGINE_AWAY, code="WORKFLOW_UNAVAILABLE")
