"""SQL of a buyer's personal data: what the export reads and what an erasure rewrites."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import (
    ApiToken,
    Cart,
    CartItem,
    EmailToken,
    IdempotencyKey,
    PaymentEvent,
    Quote,
    QuoteEvent,
    QuoteLine,
    SentNotification,
    Vendor,
    WebSession,
)

# Fields of a Khipu notification that describe the person who paid.
PAYER_FIELDS = ("payer_name", "payer_email", "personal_identifier", "responsible_user_email")
ERASED = "[borrado]"


async def quotes_of(session: AsyncSession, buyer_id: uuid.UUID) -> Sequence[tuple[Quote, str]]:
    rows = await session.execute(
        select(Quote, Vendor.slug)
        .join(Vendor, Vendor.id == Quote.vendor_id)
        .where(Quote.buyer_id == buyer_id)
        .order_by(Quote.created_at)
    )
    return [(q, slug) for q, slug in rows.all()]


async def lines_and_events(
    session: AsyncSession, quote_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[QuoteLine]], dict[uuid.UUID, list[QuoteEvent]]]:
    lines: dict[uuid.UUID, list[QuoteLine]] = {q: [] for q in quote_ids}
    events: dict[uuid.UUID, list[QuoteEvent]] = {q: [] for q in quote_ids}
    if quote_ids:
        for line in await session.scalars(
            select(QuoteLine).where(QuoteLine.quote_id.in_(quote_ids)).order_by(QuoteLine.position)
        ):
            lines[line.quote_id].append(line)
        for event in await session.scalars(
            select(QuoteEvent).where(QuoteEvent.quote_id.in_(quote_ids)).order_by(QuoteEvent.seq)
        ):
            events[event.quote_id].append(event)
    return lines, events


async def cart_items_of(
    session: AsyncSession, buyer_id: uuid.UUID
) -> Sequence[tuple[str, uuid.UUID, int]]:
    rows = await session.execute(
        select(Vendor.slug, CartItem.variant_id, CartItem.quantity)
        .join(Cart, Cart.id == CartItem.cart_id)
        .join(Vendor, Vendor.id == Cart.vendor_id)
        .where(Cart.buyer_id == buyer_id)
    )
    return [(s, v, q) for s, v, q in rows.all()]


async def sessions_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[WebSession]:
    return (
        await session.scalars(
            select(WebSession).where(WebSession.user_id == user_id).order_by(WebSession.created_at)
        )
    ).all()


async def token_names_of(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    return list(await session.scalars(select(ApiToken.name).where(ApiToken.user_id == user_id)))


async def pseudonymise_quotes(
    session: AsyncSession, buyer_id: uuid.UUID, old_email: str, pseudonym: str
) -> int:
    """Keep each quote's numbers (accounting), drop what identifies or was written by the
    buyer: contact, note, the buyer's own words in the timeline; mail logs name the
    pseudonym; Khipu notifications lose the payer's fields."""
    quotes = (
        await session.execute(select(Quote.id, Quote.contact).where(Quote.buyer_id == buyer_id))
    ).all()
    quote_ids = [quote_id for quote_id, _ in quotes]
    if not quote_ids:
        return 0
    # A quote's buyer mail went to its contact email when one was given: the mail log
    # names that address too.
    for quote_id, contact in quotes:
        email = (contact or {}).get("email")
        if isinstance(email, str) and email.strip() and email.strip() != old_email:
            await session.execute(
                update(SentNotification)
                .where(SentNotification.quote_id == quote_id)
                .values(
                    recipients=func.replace(SentNotification.recipients, email.strip(), pseudonym)
                )
            )
    await session.execute(update(Quote).where(Quote.id.in_(quote_ids)).values(contact={}, note=""))
    await session.execute(
        update(QuoteEvent)
        .where(QuoteEvent.quote_id.in_(quote_ids), QuoteEvent.actor == "buyer")
        .values(message="")
    )
    await session.execute(
        update(SentNotification)
        .where(SentNotification.quote_id.in_(quote_ids))
        .values(recipients=func.replace(SentNotification.recipients, old_email, pseudonym))
    )
    for event in await session.scalars(
        select(PaymentEvent).where(PaymentEvent.quote_id.in_(quote_ids))
    ):
        event.payload = _without_payer(event.payload)
        try:
            raw = json.loads(event.raw_body)
        except ValueError:
            raw = None
        if isinstance(raw, dict):
            # body_sha256 still proves which notification we received and verified.
            event.raw_body = json.dumps(_without_payer(raw), ensure_ascii=False)
    await session.flush()
    return len(quote_ids)


def _without_payer(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (ERASED if k in PAYER_FIELDS and v else v) for k, v in data.items()}


async def delete_account_traces(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Rows that exist only for the person: sign-in state, carts, stored API responses."""
    for model in (WebSession, ApiToken, EmailToken, IdempotencyKey):
        await session.execute(delete(model).where(model.user_id == user_id))
    await session.execute(delete(Cart).where(Cart.buyer_id == user_id))
