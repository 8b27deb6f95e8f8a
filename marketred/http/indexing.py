"""After a committed catalog change, tell the directory's indexer at once.

This is only the fast path: the change already sits in `indexer_outbox` (written in its
transaction), and the worker sweeps that outbox every few seconds, so an unreachable
Temporal here delays the push instead of losing it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from marketred.http.resources import Resources
from marketred.logs import get_logger
from marketred.services.directory import indexer as directory_indexer

log = get_logger(__name__)


async def tell_indexer(resources: Resources, product_ids: Sequence[uuid.UUID]) -> None:
    if not product_ids:
        return
    try:
        client = await resources.temporal.get()
        await directory_indexer.dispatch_pending(
            resources.sessions,
            client,
            task_queue=resources.settings.temporal_task_queue,
            product_ids=product_ids,
            limit=len(product_ids),
        )
    except Exception as exc:  # the outbox sweep retries; the change itself stands
        log.warning(
            "indexer push left to the outbox sweep", error=str(exc), products=len(product_ids)
        )
