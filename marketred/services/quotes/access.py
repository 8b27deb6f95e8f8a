"""Loading a quote for a caller: the rules themselves are authz.authorize_quote's
(another party's quote is 404, an action outside the caller's side is 403)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz
from marketred.services.errors import NotFound
from marketred.store.models import Quote
from marketred.store.repositories import quotes as quotes_repo


async def quote_for(
    session: AsyncSession, who: Principal, quote_id: uuid.UUID, action: authz.QuoteAction
) -> Quote:
    """The quote if `who` may take `action` on it."""
    quote = await quotes_repo.get(session, quote_id)
    if quote is None:
        raise NotFound(f"quote {quote_id} not found")
    try:
        authz.authorize_quote(who, quote, action)
    except NotFound as exc:
        raise NotFound(f"quote {quote_id} not found") from exc
    return quote


async def visible_quote(session: AsyncSession, who: Principal, quote_id: uuid.UUID) -> Quote:
    return await quote_for(session, who, quote_id, "view")
