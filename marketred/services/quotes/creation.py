"""Quote creation: freeze the cart, record the quote and the promise to start its
workflow, empty the cart — all in the request's transaction, which the caller commits.

The workflow is started after the commit (services/quotes/starts.py): the caller hands
the returned quote id to `quote_starts.start_pending` once committed, and the API's
sweep starts whatever a crash or an unreachable Temporal left. So a committed quote
always gets its workflow, within seconds, and a failed request leaves neither.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import (
    CreateQuote,
    DeadlinePolicy,
    QuoteLine,
    QuoteOut,
    QuoteWorkflowInput,
    quote_number_label,
    workflow_id_for,
)
from marketred.services.accounts import authz, rate_limits
from marketred.services.catalog import carts
from marketred.services.quotes import starts as quote_starts
from marketred.services.quotes.queries import quote_out
from marketred.settings import Settings
from marketred.store.models import Quote, Vendor
from marketred.store.models import QuoteLine as QuoteLineRow
from marketred.store.repositories import quotes as quotes_repo


def deadline_policy(settings: Settings, vendor: Vendor) -> DeadlinePolicy:
    """Settings defaults with the vendor's own overrides."""
    return DeadlinePolicy(
        response_hours=vendor.response_hours or settings.vendor_response_hours,
        reminder_hours_before=settings.vendor_reminder_hours_before,
        payment_hours=vendor.payment_hours or settings.payment_window_hours,
        ship_days=vendor.ship_days or settings.ship_by_days,
        auto_confirm_days=vendor.auto_confirm_days or settings.auto_confirm_days,
        poll_seconds=settings.khipu_poll_seconds,
        return_days=settings.return_window_days,
    )


async def create_quote(
    session: AsyncSession,
    settings: Settings,
    buyer: Principal,
    body: CreateQuote,
    *,
    client_ip: str | None = None,
) -> QuoteOut:
    # Counted apart and committed at once: holding the counter rows until the request's
    # commit would serialize every quote request of an address (all of them, behind a
    # proxy). Refusals count too.
    await rate_limits.limit_quote_creation(
        session,
        rate_limits.quote_limits(settings.quotes_per_account_hour, settings.quotes_per_ip_hour),
        user_id=str(buyer.user_id),
        ip=client_ip,
    )
    vendor, snapshot = await carts.vendor_cart_snapshot(
        session, authz.cart_owner(buyer, "change"), body.vendor
    )
    policy = deadline_policy(settings, vendor)
    quote_id = uuid.uuid4()
    workflow_id = workflow_id_for(quote_id)
    requested_at = datetime.now(UTC)
    lines = [
        QuoteLine(
            position=i,
            variant_id=ln.variant_id,
            product_id=ln.product_id,
            product_name=ln.product_name,
            variant_label=ln.variant_label,
            sku=ln.sku,
            quantity=ln.quantity,
            original_unit_price=ln.unit_price,
            unit_price=ln.unit_price,
        )
        for i, ln in enumerate(snapshot.lines)
    ]
    line_rows = [QuoteLineRow(**line.model_dump()) for line in lines]
    quote = await quotes_repo.add_quote_row(
        session,
        Quote(
            id=quote_id,
            workflow_id=workflow_id,
            buyer_id=buyer.user_id,
            vendor_id=vendor.id,
            status="REQUESTED",
            version=0,
            currency=snapshot.currency,
            subtotal=snapshot.subtotal,
            shipping_cost=0,
            total=snapshot.subtotal,
            commission_bps=snapshot.commission_bps,
            note=body.note,
            contact=body.contact.model_dump(exclude_none=True),
            respond_by=requested_at + timedelta(hours=policy.response_hours),
        ),
    )
    number = quote_number_label(quote.number)
    inp = QuoteWorkflowInput(
        quote_id=quote_id,
        number=number,
        buyer_id=buyer.user_id,
        buyer_email=buyer.email or None,
        vendor_id=vendor.id,
        vendor_slug=vendor.slug,
        vendor_name=vendor.name,
        currency=snapshot.currency,
        commission_bps=snapshot.commission_bps,
        lines=lines,
        note=body.note,
        contact=body.contact.model_dump(exclude_none=True),
        policy=policy,
        public_url=settings.public_url,
        requested_at=requested_at,
    )
    # Its lines, the promise to start its workflow and the emptied cart: one statement.
    await quotes_repo.add_lines_and_start(
        session,
        quote,
        line_rows,
        task_queue=settings.temporal_task_queue,
        workflow_input=quote_starts.outbox_input(inp),
    )
    # Its timeline is empty until the workflow records the request (after the commit).
    return await quote_out(session, quote, vendor=vendor, lines=line_rows, with_details=False)
