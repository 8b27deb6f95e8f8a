"""Outbound indexer push (design.md §6): keep the directory's search index in step with
our catalog.

Catalog code calls `product_changed` after it commits a change. That signals (or starts)
one Temporal workflow per product, `index-product-<uuid>`, which waits a short debounce
window, then runs an activity that reads the product's *current* state here and pushes it
(or a delete) to the indexer, retrying with backoff until the indexer answers. Rapid edits
therefore coalesce into one push of the last state, pushes of one product never overtake
each other, and an indexer outage only delays them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
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
from marketred.store.models import Product, Variant, Vendor

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
    row = (
        await session.execute(
            select(Product, Vendor)
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(Product.id == product_id)
        )
    ).first()
    if row is None:
        return None
    product, vendor = row
    if not (product.active and vendor.active):
        return None
    low, high = (
        await session.execute(
            select(func.min(Variant.price), func.max(Variant.price)).where(
                Variant.product_id == product_id, Variant.active.is_(True)
            )
        )
    ).one()
    if low is None:
        return None
    return IndexedProduct(
        id=product.id,
        vendor=vendor.slug,
        vendor_name=vendor.name,
        vendor_directory_id=vendor.directory_id,
        name=product.name,
        keywords=keywords_of(product),
        category=product.category,
        price_min=int(low),
        price_max=int(high),
        url=product_url(public_url, product.id),
        updated_at=max(product.updated_at, vendor.updated_at),
    )


async def product_changed(
    temporal_client: Client, product_id: uuid.UUID, *, task_queue: str = DEFAULT_TASK_QUEUE
) -> bool:
    """Tell the indexer workflow that `product_id` changed (created, edited, deactivated
    or deleted). Call it after the change is committed. Returns False, and logs, when
    Temporal cannot be reached: the catalog change stands, and the next change of the
    product (or `marketred directory reindex`) pushes the current state."""
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
    """Signal many products (vendor renamed or hidden, reindex), a few at a time."""
    ids = list(product_ids)
    sent = 0
    for start in range(0, len(ids), SIGNAL_BATCH):
        batch = ids[start : start + SIGNAL_BATCH]
        results = await asyncio.gather(
            *(product_changed(temporal_client, pid, task_queue=task_queue) for pid in batch)
        )
        sent += sum(results)
    return sent


async def all_product_ids(session: AsyncSession) -> list[uuid.UUID]:
    return list(await session.scalars(select(Product.id).order_by(Product.created_at)))


async def _documents(
    session: AsyncSession, public_url: str, *conditions: object, limit: int
) -> list[IndexedProduct]:
    ids = await session.scalars(
        select(Product.id)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .where(Product.active.is_(True), Vendor.active.is_(True), *conditions)  # type: ignore[arg-type]
        .order_by(Product.name)
        .limit(limit)
    )
    docs = [await indexer_document(session, pid, public_url) for pid in ids]
    return [d for d in docs if d is not None]


async def vendor_documents(
    session: AsyncSession, vendor_slug: str, public_url: str, *, limit: int = 60
) -> list[IndexedProduct]:
    """A visible vendor's visible products (server-rendered embed fragments)."""
    return await _documents(session, public_url, Vendor.slug == vendor_slug, limit=limit)


async def search_documents(
    session: AsyncSession, query: str, public_url: str, *, limit: int = 20
) -> list[IndexedProduct]:
    """Plain substring search for the iframe fragment; the JS embed uses the catalog's
    ranked full-text search API instead."""
    pattern = f"%{query.strip()}%"
    return await _documents(
        session,
        public_url,
        Product.name.ilike(pattern) | Product.keywords.ilike(pattern),
        limit=limit,
    )
