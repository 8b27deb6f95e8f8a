"""Outbound indexer push (docs/directory.md, "Indexer push out"): keep the directory's
search index in step with our catalog.

Every catalog change records the product in `indexer_outbox` in its own transaction
(`record_changes`). After the commit the caller tells the indexer at once
(`dispatch_pending` for those products); the worker also sweeps the outbox every few
seconds, so a crash after the commit or an unreachable Temporal only delays a push.
Dispatching signals (or starts) one Temporal workflow per product,
`index-product-<uuid>`, which waits a short debounce window, then runs an activity that
reads the product's *current* state here and pushes it (or a delete) to the indexer,
retrying with backoff until the indexer answers. Rapid edits therefore coalesce into one
push of the last state, pushes of one product never overtake each other, and an indexer
outage only delays them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from marketred.logs import get_logger
from marketred.schemas.directory import (
    PRODUCT_CHANGED_SIGNAL,
    IndexedProduct,
    IndexProductInput,
    ProductChanged,
    indexer_workflow_id,
)
from marketred.store.models import Product
from marketred.store.repositories import directory as repo

log = get_logger(__name__)

DEFAULT_TASK_QUEUE = "marketred"
WORKFLOW_NAME = "IndexProductWorkflow"
SIGNAL_BATCH = 20


def product_url(public_url: str, product_id: uuid.UUID) -> str:
    """Where a person sees the product on the marketplace (embed links, indexer docs)."""
    return f"{public_url.rstrip('/')}/productos/{product_id}"


def keywords_of(product: Product) -> list[str]:
    words = [w.strip().lower() for w in product.keywords.replace(",", " ").split()]
    return list(dict.fromkeys(w for w in words if w))


async def indexer_document(
    session: AsyncSession, product_id: uuid.UUID, public_url: str
) -> IndexedProduct | None:
    """The product as the indexer should know it, or None when it must be removed
    (deleted, deactivated, no active variant, or its vendor is hidden)."""
    row = await repo.product_and_vendor(session, product_id)
    if row is None:
        return None
    product, vendor = row
    if not (product.active and vendor.active):
        return None
    prices = await repo.active_price_range(session, product_id)
    if prices is None:
        return None
    low, high = prices
    return IndexedProduct(
        id=product.id,
        vendor=vendor.slug,
        vendor_name=vendor.name,
        vendor_directory_id=vendor.directory_id,
        name=product.name,
        keywords=keywords_of(product),
        category=product.category,
        price_min=low,
        price_max=high,
        url=product_url(public_url, product.id),
        updated_at=max(product.updated_at, vendor.updated_at),
    )


async def product_changed(
    temporal_client: Client, product_id: uuid.UUID, *, task_queue: str = DEFAULT_TASK_QUEUE
) -> bool:
    """Tell the indexer workflow that `product_id` changed (created, edited, deactivated
    or deleted). Returns False, and logs, when Temporal cannot be reached: the outbox row
    stays and a later sweep signals it."""
    try:
        await temporal_client.start_workflow(
            WORKFLOW_NAME,
            IndexProductInput(product_id=product_id),
            id=indexer_workflow_id(product_id),
            task_queue=task_queue,
            start_signal=PRODUCT_CHANGED_SIGNAL,
            start_signal_args=[ProductChanged(product_id=product_id)],
        )
    except (RPCError, RuntimeError) as exc:
        log.warning("indexer signal not sent", product_id=str(product_id), error=str(exc))
        return False
    return True


async def products_changed(
    temporal_client: Client, product_ids: Iterable[uuid.UUID], *, task_queue: str
) -> int:
    """Signal many products (reindex), a few at a time; how many were signalled."""
    return len(await _signal(temporal_client, list(product_ids), task_queue))


async def _signal(
    temporal_client: Client, ids: list[uuid.UUID], task_queue: str
) -> list[uuid.UUID]:
    """Signal `ids`, a few at a time; the ones whose workflow was reached."""
    sent: list[uuid.UUID] = []
    for start in range(0, len(ids), SIGNAL_BATCH):
        batch = ids[start : start + SIGNAL_BATCH]
        results = await asyncio.gather(
            *(product_changed(temporal_client, pid, task_queue=task_queue) for pid in batch)
        )
        sent += [pid for pid, ok in zip(batch, results, strict=True) if ok]
    return sent


async def record_changes(session: AsyncSession, product_ids: Iterable[uuid.UUID]) -> None:
    """Note, in the caller's transaction, that these products' indexer documents changed
    (created, edited, deactivated, deleted, or their vendor renamed or hidden)."""
    await repo.touch_outbox(session, list(dict.fromkeys(product_ids)))


async def dispatch_pending(
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    *,
    task_queue: str,
    product_ids: Iterable[uuid.UUID] | None = None,
    limit: int = 500,
) -> int:
    """Signal the indexer workflows of products waiting in the outbox (all of them, oldest
    first, or only `product_ids`), then clear the rows that were signalled. A product
    changed again meanwhile keeps its row (its `changed_at` moved), so that change is
    signalled too. No transaction stays open while Temporal is called. Returns how many
    products were signalled."""
    wanted = None if product_ids is None else list(product_ids)
    if wanted is not None and not wanted:
        return 0
    async with sessions() as session:
        seen = await repo.outbox_rows(session, wanted, limit)
    if not seen:
        return 0
    sent = await _signal(temporal_client, list(seen), task_queue)
    if sent:
        async with sessions.begin() as session:
            await repo.clear_outbox(session, [(pid, seen[pid]) for pid in sent])
    return len(sent)


async def all_product_ids(session: AsyncSession) -> list[uuid.UUID]:
    return await repo.all_product_ids(session)


async def _documents(
    session: AsyncSession, public_url: str, ids: list[uuid.UUID]
) -> list[IndexedProduct]:
    docs = [await indexer_document(session, pid, public_url) for pid in ids]
    return [d for d in docs if d is not None]


async def vendor_documents(
    session: AsyncSession, vendor_slug: str, public_url: str, *, limit: int = 60
) -> list[IndexedProduct]:
    """A visible vendor's visible products (server-rendered embed fragments)."""
    ids = await repo.visible_product_ids(session, vendor_slug=vendor_slug, limit=limit)
    return await _documents(session, public_url, ids)


async def search_documents(
    session: AsyncSession, query: str, public_url: str, *, limit: int = 20
) -> list[IndexedProduct]:
    """Plain substring search for the iframe fragment; the JS embed uses the catalog's
    ranked full-text search API instead."""
    ids = await repo.visible_product_ids(session, text=query.strip(), limit=limit)
    return await _documents(session, public_url, ids)
