"""Quote creation: freeze the cart, record the quote, start its workflow, empty the cart.

All in the request's transaction: if the workflow cannot start, nothing is recorded and
the cart stays; the workflow's first projection waits for this transaction to commit.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from marketred.schemas import search_attributes as sa
from marketred.schemas import temporal_contracts as c
from marketred.schemas.accounts import Principal
from marketred.schemas.money import format_clp
from marketred.schemas.quotes import (
    CreateQuote,
    DeadlinePolicy,
    QuoteLine,
    QuoteOut,
    QuoteWorkflowInput,
    quote_number_label,
    workflow_id_for,
)
from marketred.services import authz, carts, rate_limits
from marketred.services.errors import Unavailable
from marketred.services.quotes_queries import quote_out
from marketred.settings import Settings
from marketred.store.models import Quote, Vendor
from marketred.store.models import QuoteLine as QuoteLineRow
from marketred.store.repositories import quotes as quotes_repo

WORKFLOW_TYPE = c.QUOTE_WORKFLOW.name


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
    temporal: Client,
    settings: Settings,
    buyer: Principal,
    body: CreateQuote,
    *,
    client_ip: str | None = None,
) -> QuoteOut:
    # Counted apart and committed at once: the request's transaction lasts until the
    # workflow has started, and holding the counter rows that long serialized every
    # quote request of an address (all of them, behind a proxy). Refusals count too.
    await rate_limits.limit_quote_creation(
        session,
        rate_limits.quote_limits(settings.quotes_per_account_hour, settings.quotes_per_ip_hour),
        user_id=str(buyer.user_id),
        ip=client_ip,
    )
    snapshot = await carts.snapshot_for_quote(
        session, authz.cart_owner(buyer, "change"), body.vendor
    )
    vendor = await session.get(Vendor, snapshot.vendor_id)
    assert vendor is not None
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
    quote = await quotes_repo.add_quote(
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
        [QuoteLineRow(**line.model_dump()) for line in lines],
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
    try:
        await temporal.start_workflow(
            WORKFLOW_TYPE,
            inp,
            id=workflow_id,
            task_queue=settings.temporal_task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.QUOTE_STATUS, "REQUESTED"),
                    SearchAttributePair(sa.VENDOR_SLUG, vendor.slug),
                    SearchAttributePair(sa.BUYER_ID, str(buyer.user_id)),
                    SearchAttributePair(sa.QUOTE_TOTAL, snapshot.subtotal),
                ]
            ),
            static_summary=(
                f"{number} · {vendor.name} · {format_clp(snapshot.subtotal)} · "
                f"{len(lines)} línea(s)"
            ),
            # Ids and numbers only: summaries and details are shown in the Temporal UI to
            # anyone who can read the namespace (docs/privacy.md).
            static_details=(
                f"Cotización {number} del comprador {buyer.user_id} a {vendor.name} "
                f"({vendor.slug}).\n\n"
                + "\n".join(
                    f"- {ln.quantity} × {ln.product_name} {ln.variant_label} ({ln.sku}) "
                    f"a {format_clp(ln.unit_price)}"
                    for ln in lines
                )
            ),
        )
    except RPCError as exc:
        raise Unavailable("could not start the quote; your cart is unchanged, try again") from exc
    try:
        await carts.empty_cart(session, buyer.user_id, vendor.id)
        return await quote_out(session, quote, vendor=vendor)
    except Exception:
        # The request's transaction rolls back, so the quote row never lands: end the
        # workflow now instead of leaving it to wait for a row (it would give up as an
        # orphan only after its grace period).
        with contextlib.suppress(Exception):
            await temporal.get_workflow_handle(workflow_id).terminate(
                "quote creation failed after the workflow started"
            )
        raise
