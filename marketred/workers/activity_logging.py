"""One log line per activity attempt, bound to its workflow, quote and trace.

The worker's counterpart of the API's access log (api/middleware.py): every line an
activity logs carries `workflow_id`, `activity`, `attempt` and, for quote activities,
the quote `number` (read from the input, which every quote activity carries); the
logging processor adds `trace_id` when tracing is on, the same trace as the API request
that caused the step (trace context crosses Temporal in headers).
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from marketred.logs import get_logger

log = get_logger("marketred.activity")


def quote_number(args: tuple[Any, ...]) -> str | None:
    """Q-000123 from a quote activity's input (`number`, `quote_number`, `state.number`)."""
    for arg in args:
        for holder in (arg, getattr(arg, "state", None)):
            for name in ("number", "quote_number"):
                value = getattr(holder, name, None)
                if isinstance(value, str):
                    return value
    return None


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:  # noqa: A002
        info = activity.info()
        bound: dict[str, Any] = {
            "workflow_id": info.workflow_id,
            "activity": info.activity_type,
            "attempt": info.attempt,
        }
        number = quote_number(tuple(input.args))
        if number is not None:
            bound["quote"] = number
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(**bound):
            try:
                result = await super().execute_activity(input)
            except BaseException as exc:
                log.warning(
                    "activity failed",
                    error=f"{type(exc).__name__}: {exc}"[:300],
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )
                raise
            log.info("activity", ms=round((time.perf_counter() - started) * 1000, 1))
            return result


class ActivityLogging(Interceptor):
    def intercept_activity(
        self,
        next: ActivityInboundInterceptor,  # noqa: A002
    ) -> ActivityInboundInterceptor:
        return _Inbound(next)
