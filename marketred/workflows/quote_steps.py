"""Activity calls of the quote workflow, with the retry state an operator can see.

Each step retries a few times inside Temporal, then the workflow records the error in
its state (query `state().last_error`) and tries again after a pause: a quote stuck on a
broken database or SMTP server says so in the Temporal UI without anyone reading SQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

T = TypeVar("T")

ATTEMPTS_PER_ROUND = 4
ROUND_PAUSES = (30, 60, 300, 900)  # seconds between rounds; the last one repeats


class StepRunner:
    def __init__(self) -> None:
        self.last_error: str | None = None
        self.current_step: str | None = None

    async def run(
        self,
        activity: str,
        arg: Any,
        result_type: type[T] | None = None,
        *,
        timeout: timedelta = timedelta(seconds=30),
        give_up_after: int | None = None,
    ) -> T | None:
        """Run `activity` until it succeeds; a non-retryable business error is raised,
        and so is the last error after `give_up_after` failed rounds (a step whose
        outcome then goes to a person, e.g. a refund nobody could confirm)."""
        round_no = 0
        while True:
            self.current_step = activity
            try:
                result: T | None = await workflow.execute_activity(
                    activity,
                    arg,
                    result_type=result_type,
                    start_to_close_timeout=timeout,
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(seconds=1),
                        backoff_coefficient=2.0,
                        maximum_interval=timedelta(seconds=10),
                        maximum_attempts=ATTEMPTS_PER_ROUND,
                    ),
                )
            except ActivityError as exc:
                cause = exc.cause
                if isinstance(cause, ApplicationError) and cause.non_retryable:
                    self.current_step = None
                    raise
                if isinstance(cause, ApplicationError):
                    message = cause.message
                else:
                    message = str(cause) if cause is not None else str(exc)
                self.last_error = f"{activity}: {message}"
                if give_up_after is not None and round_no + 1 >= give_up_after:
                    self.current_step = None
                    raise
                pause = ROUND_PAUSES[min(round_no, len(ROUND_PAUSES) - 1)]
                round_no += 1
                await workflow.sleep(pause, summary=f"retry {activity}")
                continue
            self.current_step = None
            self.last_error = None
            return result
