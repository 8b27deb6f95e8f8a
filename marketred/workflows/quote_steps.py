"""Activity calls of the quote workflow.

Since 0.2.0 (patch `LEAN_HISTORY`) an activity retries inside Temporal until it succeeds
(unlimited attempts, backing off to `MAX_RETRY_INTERVAL`): retries add nothing to the
history, and the Temporal UI and `services.quotes.progress` show the attempt count and
the last failure from the pending activity. The workflow only records which step it is
waiting on (`current_step`, no history either). Request-path calls (an update an HTTP
request waits for) pass `within=`: a schedule-to-close bound after which the call fails
with type `NoAnswer`, so the API answers 503 instead of hanging.

Histories recorded before 0.2.0 ran "rounds" (4 attempts, then a workflow timer and
`last_error` in the state); those runs keep that path on replay.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from marketred.schemas.quotes import QuoteRunState
    from marketred.schemas.temporal_contracts import Activity

T = TypeVar("T")

# workflow.patched id of the 0.2.0 changes (retry policies, Khipu polling by activity
# retries, search attributes upserted only on change, smaller activity inputs).
LEAN_HISTORY = "0.2.0-lean-history"
# workflow.patched id of one activity per transition (projection and mail together,
# marketred/activities/quote_publish.py) instead of `project_quote` + a background
# `send_quote_notification`. Only on top of LEAN_HISTORY.
PUBLISH_IN_ONE = "0.2.0-publish-in-one"
# workflow.patched id that stands for every id in BUNDLED: a new run records this one
# marker instead of one per id (StepRunner.patched). Each marker also costs an upsert of
# the `TemporalChangeVersion` search attribute (the SDK adds it): a new quote asked five
# ids, 10 of its ~111 history events.
ONE_MARKER = "0.2.0-one-marker"
# The quote workflow's patch ids until ONE_MARKER (the others are defined beside their
# code: quote_workflow, quote_acceptance, quote_returns, quote_refunds;
# tests/quotes/test_patch_markers.py checks the list). A later patch is asked with
# `workflow.patched` as usual.
BUNDLED = frozenset(
    {
        LEAN_HISTORY,
        PUBLISH_IN_ONE,
        "payment-reminder",
        "partial-accept",
        "stock-reservations",
        "quote-returns",
        "refund-held",
    }
)

MAX_RETRY_INTERVAL = timedelta(minutes=5)
ATTEMPTS_PER_ROUND = 4  # pre-0.2.0 histories only
ROUND_PAUSES = (30, 60, 300, 900)  # pre-0.2.0: seconds between rounds; the last repeats


def timed_out(exc: ActivityError) -> bool:
    """The activity ran out of its schedule-to-close time (servers report either the
    timeout itself or the last attempt's failure with retry state TIMEOUT)."""
    return isinstance(exc.cause, ActivityTimeout) or exc.retry_state == RetryState.TIMEOUT


def no_answer(step: str) -> ApplicationError:
    return ApplicationError(
        f"{step} did not answer in time; nothing changed, try again shortly",
        type="NoAnswer",
        non_retryable=True,
    )


class StepRunner:
    def __init__(self, state: QuoteRunState) -> None:
        self.state = state
        self._lean: bool | None = None
        self._publish_in_one: bool | None = None
        self._one_marker: bool | None = None

    def patched(self, patch_id: str) -> bool:
        """`workflow.patched(patch_id)`, with one marker per run for the BUNDLED ids.

        The first question of a run about any BUNDLED id asks ONE_MARKER. A new run gets
        it (one marker) and every BUNDLED id counts as patched, with no marker of its own.
        A run recorded without it — an older history on replay, or a quote started under
        older code and resumed here — finds it absent (Temporal answers False for a patch
        a replayed history lacks, and records nothing) and then asks each id as before, so
        none of its commands change."""
        if patch_id in BUNDLED:
            if self._one_marker is None:
                self._one_marker = workflow.patched(ONE_MARKER)
            if self._one_marker:
                return True
        return workflow.patched(patch_id)

    @property
    def lean(self) -> bool:
        """This run follows the 0.2.0 shape (memoized: one patch marker per run)."""
        if self._lean is None:
            self._lean = self.patched(LEAN_HISTORY)
        return self._lean

    @property
    def publish_in_one(self) -> bool:
        """This run publishes a transition with one activity (memoized like `lean`)."""
        if self._publish_in_one is None:
            self._publish_in_one = self.patched(PUBLISH_IN_ONE)
        return self._publish_in_one

    async def run(
        self,
        activity: Activity[Any, T],
        arg: Any,
        *,
        timeout: timedelta = timedelta(seconds=30),
        within: timedelta | None = None,
        give_up_after: int | None = None,
    ) -> T | None:
        """Run `activity` until it succeeds; a non-retryable business error is raised.
        With `within`, give up after that long (ApplicationError type NoAnswer); in the
        pre-0.2.0 shape, `give_up_after` failed rounds raise the last error instead."""
        if not self.lean:
            return await self._run_in_rounds(activity, arg, timeout, give_up_after)
        self.state.current_step = activity.name
        try:
            while True:
                seen = self.state.retry_requests
                handle = workflow.start_activity(
                    activity.name,
                    arg,
                    result_type=activity.output,
                    start_to_close_timeout=timeout,
                    schedule_to_close_timeout=within,
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(seconds=1),
                        backoff_coefficient=2.0,
                        maximum_interval=MAX_RETRY_INTERVAL,
                        maximum_attempts=0,
                    ),
                )
                try:
                    await workflow.wait_condition(
                        lambda h=handle, n=seen: (  # type: ignore[misc]
                            h.done() or self.state.retry_requests != n
                        )
                    )
                except asyncio.CancelledError:
                    handle.cancel()
                    raise
                if handle.done():
                    result: T | None = handle.result()
                    return result
                # An operator's "retry now" (update retry_now): drop the attempt waiting
                # out its backoff and start the step again at once.
                handle.cancel()
                try:
                    finished: T | None = await handle
                    return finished  # it completed before the cancel reached it
                except (ActivityError, asyncio.CancelledError):
                    pass
        except ActivityError as exc:
            if within is not None and timed_out(exc):
                # Fails the update (not the workflow): the API answers 503 NO_ANSWER.
                raise no_answer(activity.name) from exc
            raise
        finally:
            self.state.current_step = None

    async def _run_in_rounds(
        self,
        activity: Activity[Any, T],
        arg: Any,
        timeout: timedelta,
        give_up_after: int | None = None,
    ) -> T | None:
        round_no = 0
        while True:
            self.state.current_step = activity.name
            try:
                result: T | None = await workflow.execute_activity(
                    activity.name,
                    arg,
                    result_type=activity.output,
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
                    self.state.current_step = None
                    raise
                if isinstance(cause, ApplicationError):
                    message = cause.message
                else:
                    message = str(cause) if cause is not None else str(exc)
                self.state.last_error = f"{activity.name}: {message}"
                if give_up_after is not None and round_no + 1 >= give_up_after:
                    self.state.current_step = None
                    raise
                pause = ROUND_PAUSES[min(round_no, len(ROUND_PAUSES) - 1)]
                round_no += 1
                await workflow.sleep(pause, summary=f"retry {activity.name}")
                continue
            self.state.current_step = None
            self.state.last_error = None
            return result
