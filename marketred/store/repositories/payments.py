"""SQL of Khipu payments and their raw notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Payment, PaymentEvent, PaymentRefund, Quote


async def insert_payment_once(
    session: AsyncSession,
    *,
    quote_id: uuid.UUID,
    transaction_id: str,
    amount: int,
    currency: str,
    expires_at: datetime,
) -> None:
    """Record the quote's payment (status `creating`) unless it already has one."""
    stmt = (
        insert(Payment)
        .values(
            id=uuid.uuid4(),
            quote_id=quote_id,
            transaction_id=transaction_id,
            amount=amount,
            currency=currency,
            status="creating",
            expires_at=expires_at,
        )
        .on_conflict_do_nothing(index_elements=["quote_id"])
    )
    await session.execute(stmt)


async def payment_for_quote(
    session: AsyncSession, quote_id: uuid.UUID, *, for_update: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.quote_id == quote_id)
    if for_update:
        # Serialises concurrent creators/refunders of the same quote's payment.
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def payment_by_khipu_id(session: AsyncSession, khipu_payment_id: str) -> Payment | None:
    stmt = select(Payment).where(Payment.khipu_payment_id == khipu_payment_id)
    return (await session.scalars(stmt)).one_or_none()


async def payment_by_transaction_id(session: AsyncSession, transaction_id: str) -> Payment | None:
    stmt = select(Payment).where(Payment.transaction_id == transaction_id)
    return (await session.scalars(stmt)).one_or_none()


async def insert_event_once(
    session: AsyncSession,
    *,
    khipu_payment_id: str,
    quote_id: uuid.UUID | None,
    body_sha256: str,
    raw_body: str,
    payload: dict[str, Any],
    signature_t: int,
    outcome: str,
    received_at: datetime,
) -> uuid.UUID | None:
    """Store a notification; None when the same body for the same payment is stored."""
    stmt = (
        insert(PaymentEvent)
        .values(
            id=uuid.uuid4(),
            khipu_payment_id=khipu_payment_id,
            quote_id=quote_id,
            body_sha256=body_sha256,
            raw_body=raw_body,
            payload=payload,
            signature_t=signature_t,
            outcome=outcome,
            received_at=received_at,
        )
        .on_conflict_do_nothing(index_elements=["khipu_payment_id", "body_sha256"])
        .returning(PaymentEvent.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def events_for_payment(session: AsyncSession, khipu_payment_id: str) -> list[PaymentEvent]:
    stmt = (
        select(PaymentEvent)
        .where(PaymentEvent.khipu_payment_id == khipu_payment_id)
        .order_by(PaymentEvent.received_at)
    )
    return list(await session.scalars(stmt))


async def paid_between(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[Payment, Quote]]:
    """Payments confirmed in [start, end), with their quotes."""
    rows = await session.execute(
        select(Payment, Quote)
        .join(Quote, Quote.id == Payment.quote_id)
        .where(Payment.paid_at >= start, Payment.paid_at < end)
    )
    return [(payment, quote) for payment, quote in rows]


async def lock_refund(session: AsyncSession, refund_id: str) -> PaymentRefund | None:
    return await session.scalar(
        select(PaymentRefund).where(PaymentRefund.refund_id == refund_id).with_for_update()
    )
