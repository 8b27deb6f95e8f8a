"""The domain services the pages call, in one place.

Pages stay thin (principal → service → template); this module only forwards to the
owners' services (catalog, carts, quotes, payouts) so a renamed service function is a
one-line change here, not a hunt through every page.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from marketred.schemas.accounts import Principal
from marketred.schemas.catalog import ProductOut, ProductPage, VendorOut
from marketred.schemas.common import Page
from marketred.schemas.quotes import (
    AcceptQuote,
    CancelQuote,
    CreateQuote,
    ExtendDeadlineBody,
    QuoteListFilters,
    QuoteOut,
    RecordRefundBody,
    RefundBody,
    RejectQuote,
    ReturnDecisionBody,
    ReturnRequestBody,
    ShipQuote,
)
from marketred.services import catalog_public, quotes, search
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
) -> ProductPage:
    return await search.search_products(
        session,
        q=q,
        vendor=vendor,
        min_price=min_price,
        max_price=max_price,
        limit=limit,
        offset=offset,
    )


# --- quotes (marketred.services.quotes) ---------------------------------------------


async def create_quote(
    session: AsyncSession,
    settings: Settings,
    buyer: Principal,
    body: CreateQuote,
    client_ip: str | None = None,
) -> uuid.UUID:
    quote = await quotes.create_quote(session, settings, buyer, body, client_ip=client_ip)
    return quote.id


async def list_quotes(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    limit: int,
    offset: int,
) -> Page[QuoteOut]:
    return await quotes.list_quotes(session, who, status=status, limit=limit, offset=offset)


async def get_quote(session: AsyncSession, who: Principal, quote_id: uuid.UUID) -> QuoteOut:
    return await quotes.get_quote(session, who, quote_id)


async def operator_quotes(
    session: AsyncSession,
    operator: Principal,
    *,
    status: str | None = None,
    vendor: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    held: bool = False,
    overdue: bool = False,
    number: int | None = None,
    buyer_email: str | None = None,
    limit: int,
    offset: int,
) -> Page[QuoteOut]:
    filters = QuoteListFilters(
        vendor=vendor,
        created_from=created_from,
        created_to=created_to,
        held=held,
        ship_overdue=overdue,
        number=number,
        buyer_email=buyer_email,
    )
    return await quotes.list_quotes(
        session, operator, status=status, limit=limit, offset=offset, filters=filters
    )


async def start_payment(
    session: AsyncSession, temporal: Client, buyer: Principal, quote_id: uuid.UUID
) -> str:
    return (await quotes.start_payment(session, temporal, buyer, quote_id)).payment_url


async def cancel_quote(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    reason: str,
    key: str | None = None,
) -> str:
    """Cancel; the status it ended in (REFUNDED when the payment went back)."""
    body = CancelQuote(reason=reason[:2000])
    return (await quotes.cancel_quote(session, temporal, who, quote_id, body, key=key)).status


async def recheck_payment(
    session: AsyncSession,
    temporal: Client,
    operator: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> QuoteOut:
    return await quotes.recheck_payment(session, temporal, operator, quote_id, key=key)


async def confirm_delivery(
    session: AsyncSession,
    temporal: Client,
    buyer: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> None:
    await quotes.confirm_delivery(session, temporal, buyer, quote_id, key=key)


async def accept_quote(
    session: AsyncSession,
    temporal: Client,
    vendor: Principal,
    quote_id: uuid.UUID,
    body: AcceptQuote,
    key: str | None = None,
) -> None:
    await quotes.accept_quote(session, temporal, vendor, quote_id, body, key=key)


async def reject_quote(
    session: AsyncSession,
    temporal: Client,
    vendor: Principal,
    quote_id: uuid.UUID,
    body: RejectQuote,
    key: str | None = None,
) -> None:
    await quotes.reject_quote(session, temporal, vendor, quote_id, body, key=key)


async def ship_quote(
    session: AsyncSession,
    temporal: Client,
    vendor: Principal,
    quote_id: uuid.UUID,
    body: ShipQuote,
    key: str | None = None,
) -> None:
    await quotes.ship_quote(session, temporal, vendor, quote_id, body, key=key)


async def extend_deadline(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ExtendDeadlineBody,
    key: str | None = None,
) -> None:
    await quotes.extend_deadline(session, temporal, who, quote_id, body, key=key)


async def retry_refund(
    session: AsyncSession,
    temporal: Client,
    operator: Principal,
    quote_id: uuid.UUID,
    key: str | None = None,
) -> QuoteOut:
    return await quotes.retry_refund(session, temporal, operator, quote_id, key=key)


async def record_refund(
    session: AsyncSession,
    temporal: Client,
    operator: Principal,
    quote_id: uuid.UUID,
    body: RecordRefundBody,
    key: str | None = None,
) -> QuoteOut:
    return await quotes.record_refund(session, temporal, operator, quote_id, body, key=key)


async def request_return(
    session: AsyncSession,
    temporal: Client,
    buyer: Principal,
    quote_id: uuid.UUID,
    body: ReturnRequestBody,
    key: str | None = None,
) -> QuoteOut:
    return await quotes.request_return(session, temporal, buyer, quote_id, body, key=key)


async def decide_return(
    session: AsyncSession,
    temporal: Client,
    who: Principal,
    quote_id: uuid.UUID,
    body: ReturnDecisionBody,
    key: str | None = None,
) -> QuoteOut:
    return await quotes.decide_return(session, temporal, who, quote_id, body, key=key)


async def refund_part(
    session: AsyncSession,
    temporal: Client,
    operator: Principal,
    quote_id: uuid.UUID,
    body: RefundBody,
    key: str | None = None,
) -> QuoteOut:
    return await quotes.refund_part(session, temporal, operator, quote_id, body, key=key)
