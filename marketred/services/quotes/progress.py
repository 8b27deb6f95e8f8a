"""A quote workflow's `state` query, completed with what Temporal knows about its retries.

Activities retry inside Temporal (no history per attempt), so the workflow itself only
knows which step it waits on (`current_step`). The attempt count and the last failure
live in the pending activity Temporal keeps for it; this joins the two, so an operator
sees "publish_quote: database is down (attempt 7)" without opening the Temporal UI.
"""

from __future__ import annotations

from temporalio.client import Client

from marketred.schemas import temporal_contracts as c
from marketred.schemas.quotes import QuoteState


async def quote_progress(temporal: Client, workflow_id: str) -> QuoteState:
    handle = temporal.get_workflow_handle(workflow_id)
    state: QuoteState = await handle.query(c.QUOTE_STATE.name, result_type=c.QUOTE_STATE.output)
    if state.last_error is not None:
        return state  # a run from before 0.2.0 records its own
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        failure = pending.last_failure
        waiting = failure.application_failure_info.type == "PaymentPending"  # a poll
        if pending.attempt > 1 and failure.message and not waiting:
            name = pending.activity_type.name
            state.last_error = f"{name}: {failure.message} (attempt {pending.attempt})"
            break
    return state
