"""Quote reads for the API and web: from the projection tables, never from Temporal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote as urlquote

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.schemas.common import Page
from marketred.schemas.quotes import Deadlines as DeadlinesOut
from marketred.schemas.quotes import (
    QuoteContact,
    QuoteLineOut,
    QuoteListFilters,
    QuoteOut,
    QuoteVendorOut,
    TimelineEntry,
    allowed_actions,
    quote_number_label,
)
from marketred.services.errors import InvalidInput
from marketred.services.quotes.access import visible_quote
from marketred.store.models import Quote, QuoteLine, Vendor
from marketred.store.models.quotes import QUOTE_STATUSES
from marketred.store.repositories import quotes as quotes_repo


def _contact(raw: dict[str, object]) -> QuoteContact:
    known = {k: v for k, v in raw.items() if k in QuoteContact.model_fields}
    return QuoteContact.model_validate(known)


def temporal_url(base: str, namespace: str, workflow_id: str) -> str:
    return f"{base.rstrip('/')}/namespaces/{namespace}/workflows/{urlquote(workflow_id)}"


async def quote_out(
    session: AsyncSession,
    quote: Quote,
    *,
    vendor: Vendor | None = None,
    lines: Sequence[QuoteLine] | None = None,
    with_details: bool = True,
) -> QuoteOut:
    """`vendor` and `lines` when the caller holds them already (a quote just recorded)."""
    vendor = vendor or await session.get(Vendor, quote.vendor_id)
    assert vendor is not None
    if lines is None:
        lines = await quotes_repo.lines_of(session, quote.id)
    events = await quotes_repo.events_of(session, quote.id) if with_details else []
    deadlines = DeadlinesOut(
        respond_by=quote.respond_by,
        pay_by=quote.pay_by,
        ship_by=quote.ship_by,
        auto_confirm_at=quote.auto_confirm_at,
    )
    return QuoteOut(
        id=quote.id,
        number=quote_number_label(quote.number),
        status=quote.status,
        vendor=QuoteVendorOut(slug=vendor.slug, name=vendor.name),
        buyer_id=quote.buyer_id,
        currency=quote.currency,
        lines=[
            QuoteLineOut(
                position=ln.position,
                variant_id=ln.variant_id,
                product_id=ln.product_id,
                product_name=ln.product_name,
                variant_label=ln.variant_label,
                sku=ln.sku,
                quantity=ln.quantity,
                original_unit_price=ln.original_unit_price,
                unit_price=ln.unit_price,
                line_total=ln.unit_price * ln.quantity,
                requested_quantity=ln.requested_quantity,
                change_reason=ln.change_reason,
            )
            for ln in lines
        ],
        subtotal=quote.subtotal,
        shipping_cost=quote.shipping_cost,
        total=quote.total,
        note=quote.note,
        contact=_contact(quote.contact),
        vendor_note=quote.vendor_note,
        reason=quote.reason,
        hold_reason=quote.hold_reason,
        waiting_for=quote.waiting_for,
        last_error=quote.last_error,
        ship_overdue=quote.ship_overdue,
        allowed_actions=allowed_actions(
            quote.status,
            hold_reason=quote.hold_reason,
            ship_overdue=quote.ship_overdue,
            response_extended=quote.response_extended,
            pending_deadline=deadlines.pending_name(quote.status),
            retrying=quote.last_error is not None,
        ),
        carrier=quote.carrier,
        tracking=quote.tracking,
        deadlines=deadlines,
        timeline=[
            TimelineEntry(
                seq=e.seq,
                kind=e.kind,
                status=e.status,
                actor=e.actor,
                message=e.message,
                at=e.at,
                data=e.data,
            )
            for e in events
        ],
        workflow_id=quote.workflow_id,
        created_at=quote.created_at,
        updated_at=quote.updated_at,
    )


async def get_quote(
    session: AsyncSession,
    who: Principal,
    quote_id: uuid.UUID,
    *,
    temporal_ui: tuple[str, str] | None = None,
) -> QuoteOut:
    # A quote this session loaded before (an action's request, which then waited for the
    # workflow to project) is read again; a fresh load is current already (one round
    # trip fewer on every GET, the status polls included).
    held = session.identity_key(Quote, quote_id) in session.identity_map
    quote = await visible_quote(session, who, quote_id)
    if held:
        await session.refresh(quote)
    out = await quote_out(session, quote)
    if who.is_operator and temporal_ui is not None:
        out.temporal_url = temporal_url(temporal_ui[0], temporal_ui[1], quote.workflow_id)
    return out


async def list_quotes(
    session: AsyncSession,
    who: Principal,
    *,
    status: str | None,
    limit: int = 50,
    offset: int = 0,
    filters: QuoteListFilters | None = None,
) -> Page[QuoteOut]:
    if status is not None and status not in QUOTE_STATUSES:
        raise InvalidInput("unknown status", errors=[("status", f"one of {QUOTE_STATUSES}")])
    wanted = (filters or QuoteListFilters()).model_copy(update={"status": status})
    visible = quotes_repo.party_filter(who.role, who.user_id, who.vendor_id)
    rows, total = await quotes_repo.list_quotes(
        session, visible, wanted, limit, offset, now=datetime.now(UTC)
    )
    items = []
    for quote, _slug in rows:
        items.append(await quote_out(session, quote, with_details=False))
    return Page[QuoteOut](items=items, total=total)
