"""Start a quote's workflow once its request has committed, and sweep what is left.

The quote and its `quote_start_outbox` row are already committed when these run
(services/quotes/starts.py): the start after the response is only the fast path, so an
unreachable Temporal or a crash here delays the workflow (the sweep starts it) instead
of losing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from marketred.http.resources import Resources
from marketred.logs import get_logger
from marketred.services.quotes import starts as quote_starts

log = get_logger(__name__)


async def start_quote_workflow(resources: Resources, quote_id: uuid.UUID) -> None:
    """After the commit (a response background task): start this quote's workflow."""
    try:
        client = await resources.temporal.get()
        await quote_starts.start_pending(resources.sessions, client, quote_ids=[quote_id])
    except Exception as exc:  # the sweep retries; the quote itself stands
        log.warning("quote start left to the sweep", quote_id=str(quote_id), error=str(exc))


@contextlib.asynccontextmanager
async def quote_start_sweep(resources: Resources) -> AsyncIterator[None]:
    """For the API's lifespan: sweep the start outbox while the app runs."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        quote_starts.sweep_quote_starts(
            resources.sessions,
            resources.temporal.get,
            every_seconds=resources.settings.quote_start_sweep_seconds,
            stop=stop,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await task
