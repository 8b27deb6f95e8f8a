"""Featured products (the seed's advertising): operators feature a product, or all the
products of a vendor, for a period. The storefront's home shows them in a "Destacados"
row; the search API and the embed search can put them first, each marked as featured.

Boosting reorders the page a search already returned (featured hits first, each group
in its ranked order), so a featured product that does not match the query never shows
up, and the ranking SQL stays as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.logs import get_logger
from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz
from marketred.services.errors import InvalidInput, NotFound
from marketred.store.models import FeaturedItem, Product
from marketred.store.repositories import featured as repo
from marketred.store.repositories import vendors as vendors_repo

log = get_logger(__name__)


@dataclass(frozen=True)
class FeaturedRow:
    id: uuid.UUID
    target: str  # product or vendor name
    kind: str  # "product" or "vendor"
    starts_at: datetime
    ends_at: datetime
    by: str | None
    ended_by: str | None

    def state(self, now: datetime) -> str:
        if self.ends_at <= now or self.ended_by:
            return "ended"
        return "running" if self.starts_at <= now else "scheduled"


async def feature(
    session: AsyncSession,
    who: Principal,
    *,
    product_id: uuid.UUID | None = None,
    vendor_slug: str | None = None,
    starts_at: datetime,
    ends_at: datetime,
) -> FeaturedItem:
    authz.require_role(who, "operator")
    if ends_at <= starts_at:
        raise InvalidInput("period ends before it starts", errors=[("hasta", "after the start")])
    if (product_id is None) == (vendor_slug is None):
        raise InvalidInput("feature a product or a vendor", errors=[("producto", "choose one")])
    vendor_id = None
    if product_id is not None and await session.get(Product, product_id) is None:
        raise NotFound(f"product {product_id} not found")
    if vendor_slug is not None:
        vendor_id = await vendors_repo.id_by_slug(session, vendor_slug)
        if vendor_id is None:
            raise NotFound(f"vendor {vendor_slug!r} not found")
    item = FeaturedItem(
        product_id=product_id,
        vendor_id=vendor_id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=who.user_id,
        created_by_email=who.email or None,
    )
    session.add(item)
    await session.flush()
    log.info("featured", product=str(product_id), vendor=vendor_slug, by=who.email)
    return item


async def end_now(session: AsyncSession, who: Principal, item_id: uuid.UUID) -> None:
    authz.require_role(who, "operator")
    item = await session.get(FeaturedItem, item_id)
    if item is None:
        raise NotFound("featured item not found")
    now = datetime.now(UTC)
    if item.ends_at > now:
        # One not started yet keeps its start and lasts a microsecond (the period check).
        item.ends_at = max(now, item.starts_at + timedelta(microseconds=1))
        item.ended_by_email = who.email or None
        await session.flush()


async def list_all(session: AsyncSession, who: Principal, limit: int = 200) -> list[FeaturedRow]:
    authz.require_role(who, "operator")
    rows = await repo.with_names(session, limit)
    return [
        FeaturedRow(
            item.id,
            product_name or vendor_name or "",
            "product" if item.product_id else "vendor",
            item.starts_at,
            item.ends_at,
            item.created_by_email,
            item.ended_by_email,
        )
        for item, product_name, vendor_name in rows
    ]


async def featured_product_ids(
    session: AsyncSession, now: datetime | None = None, limit: int = 200
) -> list[uuid.UUID]:
    """Visible products featured now (directly or through their vendor), newest first."""
    now = now or datetime.now(UTC)
    return list(dict.fromkeys(await repo.running_product_ids(session, now, limit)))


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=_HasId)


def boost(items: Sequence[T], featured: set[uuid.UUID]) -> list[T]:
    """Featured items first, each group keeping its order (a stable sort)."""
    return sorted(items, key=lambda item: item.id not in featured)
