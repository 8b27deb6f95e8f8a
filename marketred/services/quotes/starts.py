"""Starting quote workflows after the quote is committed (docs/quotes.md, "Creation").

Quote creation records the quote and a `quote_start_outbox` row in the request's
transaction and answers at once; the workflow start (a Temporal round trip, the slowest
part of the request) happens after the commit:

- right after it, from the request's background task (`start_pending` for that quote);
- from the API's sweep (`sweep_quote_starts`, every `quote_start_sweep_seconds`), for
  rows the first attempt left: a crash between the commit and the start, Temporal
  unreachable;
- before an action on the quote (`start_if_pending`), when an update reaches a workflow
  Temporal does not know yet.

The start is idempotent by workflow id (the quote's): `WorkflowAlreadyStartedError` means
someone started it already, which is done. Ids are never reused, so a late sweep can
never start a second run of a quote whose workflow already ended. A row is removed only
after Temporal has the workflow, so a committed quote always gets its workflow.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from marketred.logs import get_logger
from marketred.schemas import search_attributes as sa
from marketred.schemas import temporal_contracts as c
from marketred.schemas.money import format_clp, quote_totals
from marketred.schemas.quotes import QuoteWorkflowInput, workflow_id_for
from marketred.store.models import QuoteStartOutbox
from marketred.store.repositories import quote_starts as repo

log = get_logger(__name__)

WORKFLOW_TYPE = c.QUOTE_WORKFLOW.name
# Starts sent to Temporal at once by one drain.
START_BATCH = 20


def outbox_input(inp: QuoteWorkflowInput) -> dict[str, Any]:
    """The `workflow_input` of the quote's outbox row, written in the transaction that
    records the quote (the promise that its workflow will be started; `_start_row`
    reads it back)."""
    return inp.model_dump(mode="json")


async def start(temporal: Client, task_queue: str, inp: QuoteWorkflowInput) -> None:
    """Start the quote's workflow; nothing to do when it was started before (now running
    or ended). Raises what Temporal raises otherwise (RPCError: unreachable)."""
    subtotal, _ = quote_totals(((ln.unit_price, ln.quantity) for ln in inp.lines), 0)
    try:
        await temporal.start_workflow(
            WORKFLOW_TYPE,
            inp,
            id=workflow_id_for(inp.quote_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.QUOTE_STATUS, "REQUESTED"),
                    SearchAttributePair(sa.VENDOR_SLUG, inp.vendor_slug),
                    SearchAttributePair(sa.BUYER_ID, str(inp.buyer_id)),
                    SearchAttributePair(sa.QUOTE_TOTAL, subtotal),
                ]
            ),
            static_summary=(
                f"{inp.number} · {inp.vendor_name} · {format_clp(subtotal)} · "
                f"{len(inp.lines)} línea(s)"
            ),
            # Ids and numbers only: summaries and details are shown in the Temporal UI to
            # anyone who can read the namespace (docs/privacy.md).
            static_details=(
                f"Cotización {inp.number} del comprador {inp.buyer_id} a {inp.vendor_name} "
                f"({inp.vendor_slug}).\n\n"
                + "\n".join(
                    f"- {ln.quantity} × {ln.product_name} {ln.variant_label} ({ln.sku}) "
                    f"a {format_clp(ln.unit_price)}"
                    for ln in inp.lines
                )
            ),
        )
    except WorkflowAlreadyStartedError:
        pass  # started before: by the request, the sweep or an action


async def _start_row(temporal: Client, row: QuoteStartOutbox) -> bool:
    try:
        await start(temporal, row.task_queue, QuoteWorkflowInput.model_validate(row.workflow_input))
    except Exception as exc:  # Temporal away: the row stays for the sweep
        log.warning("quote workflow not started yet", quote_id=str(row.quote_id), error=str(exc))
        return False
    return True


async def start_pending(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    *,
    quote_ids: Iterable[uuid.UUID] | None = None,
    older_than: timedelta | None = None,
    limit: int = 200,
) -> int:
    """Start the workflows of quotes waiting in the outbox (only `quote_ids`, or those
    waiting longer than `older_than`, oldest first), then remove their rows. No
    transaction stays open while Temporal is called. Returns how many were started."""
    wanted = None if quote_ids is None else list(quote_ids)
    if wanted == []:
        return 0
    async with sessions() as session:
        rows = await repo.waiting(session, quote_ids=wanted, older_than=older_than, limit=limit)
    started: list[uuid.UUID] = []
    for first in range(0, len(rows), START_BATCH):
        batch = rows[first : first + START_BATCH]
        done = await asyncio.gather(*(_start_row(temporal, row) for row in batch))
        started += [row.quote_id for row, ok in zip(batch, done, strict=True) if ok]
    if started:
        async with sessions.begin() as session:
            await repo.forget(session, started)
    return len(started)


async def start_if_pending(session: AsyncSession, temporal: Client, quote_id: uuid.UUID) -> bool:
    """Start the quote's workflow now if it is still waiting to be (an action came first);
    the row goes with the caller's transaction. False when there was nothing to start."""
    row = await session.get(QuoteStartOutbox, quote_id)
    if row is None:
        return False
    await start(temporal, row.task_queue, QuoteWorkflowInput.model_validate(row.workflow_input))
    await repo.forget(session, [quote_id])
    return True


async def sweep_quote_starts(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Callable[[], Awaitable[Client]],
    *,
    every_seconds: float,
    stop: asyncio.Event,
) -> None:
    """Until `stop` is set: every `every_seconds`, start what the requests left (rows at
    least that old, so a start on its way right after a commit is not raced). Drains in
    batches; the first round runs at once (a restarted API heals its crash first)."""
    while not stop.is_set():
        try:
            client = await temporal()  # connects on first use; may be away
            while await start_pending(
                sessions, client, older_than=timedelta(seconds=every_seconds)
            ):
                if stop.is_set():
                    return
        except Exception as exc:  # the database or Temporal is away; try again next round
            log.warning("quote start sweep failed", error=str(exc))
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
        except TimeoutError:
            pass
