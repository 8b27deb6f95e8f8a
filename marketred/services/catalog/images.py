"""A product's photos: upload (re-encoded, see image_processing), alt text, main one and
order, removal; and the lookups pages use to show them.

Renditions live in `media_blobs` under their content hash and are served by
`GET /media/{key}` with a year-long immutable cache: a changed photo is a new hash, a
new URL. After every change the product's `image_urls` (what the API, the search JSON,
the embed script and the directory's indexer already carry) is rewritten to the photos'
own URLs in order, so every consumer sees the same photos without a second field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.logs import get_logger
from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import QuoteOut
from marketred.services.catalog import products as catalog
from marketred.services.catalog.image_processing import (
    CONTENT_TYPE,
    ImageRefused,
    media_key,
    process_in_thread,
)
from marketred.services.catalog.media_store import MediaStore
from marketred.services.directory import indexer as directory_indexer
from marketred.services.errors import InvalidInput, NotFound, Reason
from marketred.store.models import Product, ProductImage
from marketred.store.repositories import images as repo

log = get_logger(__name__)
MAX_IMAGES = 8
MAX_ALT = 300


@dataclass(frozen=True)
class ImageRef:
    id: uuid.UUID
    digest: str
    alt: str
    position: int
    width: int
    height: int

    def url(self, size: str = "md") -> str:
        return media_path(self.digest, size)


def media_path(digest: str, size: str) -> str:
    return f"/media/{media_key(digest, size)}"


def _ref(row: ProductImage) -> ImageRef:
    return ImageRef(row.id, row.digest, row.alt, row.position, row.width, row.height)


def _clean_alt(alt: str) -> str:
    text = " ".join(alt.split())
    if not text:
        raise InvalidInput(
            "alt text is empty", errors=[("alt", Reason("PHOTO_ALT_MISSING", "describe the photo"))]
        )
    if len(text) > MAX_ALT:
        too_long = Reason("PHOTO_ALT_TOO_LONG", f"at most {MAX_ALT} characters", n=MAX_ALT)
        raise InvalidInput("alt text too long", errors=[("alt", too_long)])
    return text


async def _rows(session: AsyncSession, product_id: uuid.UUID) -> list[ProductImage]:
    return await repo.images_of(session, product_id)


async def _renumber(
    session: AsyncSession, product: Product, rows: list[ProductImage], public_url: str
) -> None:
    for position, row in enumerate(rows):
        row.position = position
    base = public_url.rstrip("/")
    product.image_urls = [f"{base}{media_path(r.digest, 'md')}" for r in rows]
    await directory_indexer.record_changes(session, [product.id])
    await session.flush()


async def list_images(session: AsyncSession, product_id: uuid.UUID) -> list[ImageRef]:
    return [_ref(r) for r in await _rows(session, product_id)]


async def main_images(
    session: AsyncSession, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ImageRef]:
    """The main photo of each product that has one (for cards, cart and quote lines)."""
    if not product_ids:
        return {}
    found = await repo.main_images(session, set(product_ids))
    return {r.product_id: _ref(r) for r in found}


async def upload(
    session: AsyncSession,
    who: Principal,
    product_id: uuid.UUID,
    data: bytes,
    alt: str,
    public_url: str,
    store: MediaStore,
) -> ImageRef:
    """Add a photo at the end (the first one becomes the main one)."""
    product = await catalog.own_product(session, who, product_id)
    text = _clean_alt(alt)
    # Serialize uploads to one product: the 8-photo cap and positions stay exact.
    await repo.lock_product(session, product.id)
    if await repo.count_images(session, product.id) >= MAX_IMAGES:
        limit = Reason("PHOTO_LIMIT", f"at most {MAX_IMAGES} photos per product", n=MAX_IMAGES)
        raise InvalidInput("too many photos", errors=[("file", limit)])
    try:
        processed = await process_in_thread(data)
    except ImageRefused as exc:
        raise InvalidInput(exc.reason, errors=[("file", exc.reason)]) from exc
    rows = await _rows(session, product.id)
    if any(r.digest == processed.digest for r in rows):
        raise InvalidInput(
            "same photo",
            errors=[("file", Reason("PHOTO_DUPLICATE", "this photo is already there"))],
        )
    for size, rendition in processed.renditions.items():
        await store.put(session, processed.key(size), rendition, CONTENT_TYPE)
    row = ProductImage(
        product_id=product.id,
        digest=processed.digest,
        alt=text,
        position=len(rows),
        width=processed.width,
        height=processed.height,
    )
    session.add(row)
    await _renumber(session, product, [*rows, row], public_url)
    log.info("product_image_added", product=str(product.id), digest=processed.digest[:12])
    return _ref(row)


async def _own_image(
    session: AsyncSession, who: Principal, product_id: uuid.UUID, image_id: uuid.UUID
) -> tuple[Product, list[ProductImage], ProductImage]:
    product = await catalog.own_product(session, who, product_id)
    rows = await _rows(session, product.id)
    row = next((r for r in rows if r.id == image_id), None)
    if row is None:
        raise NotFound(f"image {image_id} not found")
    return product, rows, row


async def set_alt(
    session: AsyncSession, who: Principal, product_id: uuid.UUID, image_id: uuid.UUID, alt: str
) -> None:
    _product, _others, row = await _own_image(session, who, product_id, image_id)
    row.alt = _clean_alt(alt)
    await session.flush()


async def move(
    session: AsyncSession,
    who: Principal,
    product_id: uuid.UUID,
    image_id: uuid.UUID,
    to: int,
    public_url: str,
) -> None:
    """Put the photo at position `to` (0 makes it the main one)."""
    product, rows, row = await _own_image(session, who, product_id, image_id)
    rows.remove(row)
    rows.insert(max(0, min(to, len(rows))), row)
    await _renumber(session, product, rows, public_url)


async def remove(
    session: AsyncSession,
    who: Principal,
    product_id: uuid.UUID,
    image_id: uuid.UUID,
    public_url: str,
) -> None:
    """Drop the photo; its renditions stay (another product may share the same bytes, and
    a page cached with the URL keeps working)."""
    product, rows, row = await _own_image(session, who, product_id, image_id)
    rows.remove(row)
    await session.delete(row)
    await _renumber(session, product, rows, public_url)


async def blob(session: AsyncSession, key: str, store: MediaStore) -> tuple[bytes, str]:
    found = await store.get(session, key)
    if found is None:
        raise NotFound("no such media")
    return found


async def quote_line_images(session: AsyncSession, quote: QuoteOut) -> dict[uuid.UUID, ImageRef]:
    return await main_images(session, [ln.product_id for ln in quote.lines if ln.product_id])
