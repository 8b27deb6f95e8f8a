"""Who may see and act on a quote: another party's quote is 404, a wrong role is 403."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.services.errors import Forbidden, NotFound
from marketred.store.models import Quote
from marketred.store.repositories import quotes as quotes_repo


def is_party(who: Principal, quote: Quote) -> bool:
    if who.role == "operator":
        return True
    if who.role == "buyer":
        return quote.buyer_id == who.user_id
    return who.vendor_id is not None and quote.vendor_id == who.vendor_id


async def visible_quote(session: AsyncSession, who: Principal, quote_id: uuid.UUID) -> Quote:
    quote = await quotes_repo.get(session, quote_id)
    if quote is None or not is_party(who, quote):
        raise NotFound(f"quote {quote_id} not found")
    return quote


async def quote_for(
    session: AsyncSession, who: Principal, quote_id: uuid.UUID, *roles: str
) -> Quote:
    """The quote if `who` is a party to it and has one of `roles` (operators always may
    when listed)."""
    quote = await visible_quote(session, who, quote_id)
    if who.role not in roles:
        raise Forbidden(f"this action on a quote is for {' or '.join(roles)} accounts")
    return quote
