"""The domain services the pages call, in one place.

Pages stay thin (principal → service → template); this module only forwards to the
owners' services (catalog, carts, quotes, payouts) so a renamed service function is a
one-line change here, not a hunt through every page.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred.schemas.accounts import Principal
from marketred.schemas.catalog import ProductOut, ProductSummary, VendorOut
from marketred.schemas.common import Page
from marketred.schemas.quotes import CancelQuote, CreateQuote
from marketred.services import catalog_public, search
from marketred.settings import Settings


async def list_vendors(session: AsyncSession) -> list[VendorOut]:
    return (await catalog_public.list_vendors(session, q=None, limit=100, offset=0)).items


async def get_vendor(session: AsyncSession, slug: str) -> VendorOut:
    return await catalog_public.get_vendor(session, slug)


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> ProductOut:
    return await catalog_public.get_product(session, product_id)


async def search_products(
    session: AsyncSession,
    *,
    q: str,
    vendor: str | None,
    limit: int,
    offset: int,
    min_price: int | None = None,
    max_price: int | None = None,
) -> Page[ProductSummary]:
    return await search.search_products(
        session,
        q=q,
        vendor=vendor,
        min_price=min_price,
        max_price=max_price,
        limit=limit,
        offset=offset,
    )


# --- quotes (marketred.services.quotes*, quote engineer) ------------------------------
# Imported inside each function: the quote services land separately from the pages.


async def create_quote(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    buyer: Principal,
    body: CreateQuote,
) -> uuid.UUID:
    from marketred.services import quotes

    created = await quotes.create_quote(session, temporal, settings, buyer, body)
    return created.id  # type: ignore[no-any-return]


async def list_quotes(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    limit: int,
    offset: int,
) -> Page[Any]:
    from marketred.services import quotes

    return await quotes.list_quotes(session, who, status=status, limit=limit, offset=offset)  # type: ignore[no-any-return]


async def get_quote(session: AsyncSession, who: Principal, quote_id: uuid.UUID) -> Any:
    from marketred.services import quotes

    return await quotes.get_quote(session, who, quote_id)


async def start_payment(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    buyer: Principal,
    quote_id: uuid.UUID,
) -> str:
    from marketred.services import quotes

    result = await quotes.start_payment(session, temporal, buyer, quote_id)
    del settings
    return str(result.payment_url)


async def cancel_quote(
    session: AsyncSession, temporal: Client, who: Principal, quote_id: uuid.UUID, reason: str
) -> None:
    from marketred.services import quotes

    await quotes.cancel_quote(session, temporal, who, quote_id, CancelQuote(reason=reason[:2000]))


async def confirm_delivery(
    session: AsyncSession, temporal: Client, buyer: Principal, quote_id: uuid.UUID
) -> None:
    from marketred.services import quotes

    await quotes.confirm_delivery(session, temporal, buyer, quote_id)


async def accept_quote(
    session: AsyncSession, temporal: Client, vendor: Principal, quote_id: uuid.UUID, body: Any
) -> None:
    from marketred.services import quotes

    await quotes.accept_quote(session, temporal, vendor, quote_id, body)


async def reject_quote(
    session: AsyncSession, temporal: Client, vendor: Principal, quote_id: uuid.UUID, body: Any
) -> None:
    from marketred.services import quotes

    await quotes.reject_quote(session, temporal, vendor, quote_id, body)


async def ship_quote(
    session: AsyncSession, temporal: Client, vendor: Principal, quote_id: uuid.UUID, body: Any
) -> None:
    from marketred.services import quotes

    await quotes.ship_quote(session, temporal, vendor, quote_id, body)
