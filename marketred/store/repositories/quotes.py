"""All SQL of quotes: creation rows, the versioned projection, party-scoped reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.quotes import FINAL_STATUSES, STUCK_GRACE, QuoteListFilters, StuckReason
from marketred.schemas.quotes import QuoteLine as QuoteLineState
from marketred.store.models import (
    Cart,
    Quote,
    QuoteEvent,
    QuoteLine,
    QuoteStartOutbox,
    User,
    Vendor,
)
from marketred.store.models.notifications import SentNotification

# What a requested quote's line holds (the vendor's changes come later).
_NEW_LINE_COLUMNS = (
    "quote_id",
    "position",
    "variant_id",
    "product_id",
    "product_name",
    "variant_label",
    "sku",
    "quantity",
    "original_unit_price",
    "unit_price",
)


async def add_lines_and_start(
    session: AsyncSession,
    quote: Quote,
    lines: Sequence[QuoteLine],
    *,
    task_queue: str,
    workflow_input: dict[str, Any],
) -> None:
    """In ONE statement: the quote's lines, the promise to start its workflow (its
    `quote_start_outbox` row) and the deletion of the buyer's cart of that vendor. The
    `lines` objects stay out of the session (plain rows for the answer)."""
    for ln in lines:
        ln.quote_id = quote.id
    stmt = insert(QuoteStartOutbox).values(
        quote_id=quote.id, task_queue=task_queue, workflow_input=workflow_input
    )
    if lines:
        stmt = stmt.add_cte(
            insert(QuoteLine)
            .values(
                [
                    {"id": uuid.uuid4()} | {name: getattr(ln, name) for name in _NEW_LINE_COLUMNS}
                    for ln in lines
                ]
            )
            .cte("new_lines")
        )
    stmt = stmt.add_cte(
        delete(Cart)
        .where(Cart.buyer_id == quote.buyer_id, Cart.vendor_id == quote.vendor_id)
        .cte("emptied_cart")
    )
    await session.execute(stmt)


async def add_quote_row(session: AsyncSession, quote: Quote) -> Quote:
    """The quote alone; its number comes back in the INSERT (eager_defaults). Its lines
    follow with `add_lines_and_start`."""
    session.add(quote)
    await session.flush()
    return quote


async def add_quote(session: AsyncSession, quote: Quote, lines: Sequence[QuoteLine]) -> Quote:
    session.add(quote)
    for line in lines:
        line.quote_id = quote.id
        session.add(line)
    await session.flush()  # the quote's number comes back in its INSERT (eager_defaults)
    return quote


async def get(session: AsyncSession, quote_id: uuid.UUID) -> Quote | None:
    return await session.get(Quote, quote_id)


async def lines_of(session: AsyncSession, quote_id: uuid.UUID) -> Sequence[QuoteLine]:
    return (
        await session.scalars(
            select(QuoteLine).where(QuoteLine.quote_id == quote_id).order_by(QuoteLine.position)
        )
    ).all()


async def events_of(session: AsyncSession, quote_id: uuid.UUID) -> Sequence[QuoteEvent]:
    return (
        await session.scalars(
            select(QuoteEvent).where(QuoteEvent.quote_id == quote_id).order_by(QuoteEvent.seq)
        )
    ).all()


def party_filter(
    role: str, user_id: uuid.UUID, vendor_id: uuid.UUID | None
) -> ColumnElement[bool] | None:
    """Which quotes a caller may see: None means all (operators)."""
    if role == "buyer":
        return Quote.buyer_id == user_id
    if role == "vendor":
        return Quote.vendor_id == vendor_id
    return None


def stuck_conditions(now: datetime) -> dict[StuckReason, ColumnElement[bool]]:
    """SQL for each reason a quote needs a person (schemas/quotes.StuckReason)."""
    open_ = Quote.status.not_in(FINAL_STATUSES)
    cancelling = (
        select(QuoteEvent.id)
        .where(QuoteEvent.quote_id == Quote.id, QuoteEvent.kind == "cancelling")
        .exists()
    )
    return {
        "deadline_passed": and_(
            open_, Quote.hold_reason.is_(None), Quote.next_deadline < now - STUCK_GRACE
        ),
        "retrying": and_(open_, Quote.last_error.is_not(None)),
        "payment_held": and_(Quote.status == "ACCEPTED", Quote.hold_reason.is_not(None)),
        "refund_open": and_(Quote.status == "CANCELLED", cancelling),
    }


async def list_quotes(
    session: AsyncSession,
    visible: ColumnElement[bool] | None,
    filters: QuoteListFilters,
    limit: int,
    offset: int,
    *,
    now: datetime,
) -> tuple[Sequence[tuple[Quote, str]], int]:
    conditions: list[ColumnElement[bool]] = []
    if visible is not None:
        conditions.append(visible)
    if filters.status:
        conditions.append(Quote.status == filters.status)
    if filters.vendor:
        conditions.append(Vendor.slug == filters.vendor)
    if filters.created_from is not None:
        conditions.append(Quote.created_at >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(Quote.created_at < filters.created_to)
    if filters.number is not None:
        conditions.append(Quote.number == filters.number)
    if filters.buyer_email:
        buyers = select(User.id).where(User.email == filters.buyer_email.strip().lower())
        conditions.append(Quote.buyer_id.in_(buyers))
    if filters.held:
        # Still waiting for an operator (a hold that ended in a cancel is history): a
        # held payment, or a refund Khipu refused.
        conditions.append(
            or_(
                and_(Quote.status == "ACCEPTED", Quote.hold_reason.is_not(None)),
                Quote.status == "REFUND_HELD",
            )
        )
    if filters.ship_overdue:
        conditions.extend([Quote.status == "PAID", Quote.ship_by < now])
    if filters.stuck or filters.stuck_reason:
        reasons = stuck_conditions(now)
        if filters.stuck_reason:
            conditions.append(reasons[filters.stuck_reason])
        else:
            conditions.append(or_(*reasons.values()))
    total = await session.scalar(
        select(func.count())
        .select_from(Quote)
        .join(Vendor, Vendor.id == Quote.vendor_id)
        .where(*conditions)
    )
    rows = await session.execute(
        select(Quote, Vendor.slug)
        .join(Vendor, Vendor.id == Quote.vendor_id)
        .where(*conditions)
        .order_by(Quote.created_at.desc(), Quote.number.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(row[0], row[1]) for row in rows], int(total or 0)


async def apply_projection(
    session: AsyncSession, quote_id: uuid.UUID, version: int, values: dict[str, Any]
) -> bool:
    """Write the snapshot only over an older version: a replay never moves it back."""
    result = await session.execute(
        update(Quote)
        .where(Quote.id == quote_id, Quote.version < version)
        .values(version=version, updated_at=func.now(), **values)
        .returning(Quote.id)
    )
    return result.scalar_one_or_none() is not None


async def set_line(session: AsyncSession, quote_id: uuid.UUID, line: QuoteLineState) -> None:
    """The line as the vendor accepted it: unit price, quantity (0: dropped), what the
    buyer asked for and the vendor's reason."""
    await session.execute(
        update(QuoteLine)
        .where(QuoteLine.quote_id == quote_id, QuoteLine.position == line.position)
        .where(
            (QuoteLine.unit_price != line.unit_price)
            | (QuoteLine.quantity != line.quantity)
            | QuoteLine.requested_quantity.is_distinct_from(line.requested_quantity)
        )
        .values(
            unit_price=line.unit_price,
            quantity=line.quantity,
            requested_quantity=line.requested_quantity,
            change_reason=line.change_reason,
        )
    )


async def add_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert the timeline rows not stored yet; return the kinds of those inserted."""
    if not rows:
        return []
    inserted = await session.scalars(
        insert(QuoteEvent)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["quote_id", "seq"])
        .returning(QuoteEvent.kind)
    )
    return list(inserted)


ClaimVerdict = Literal["new", "sent", "resend", "busy"]


async def claim_notification(
    session: AsyncSession,
    quote_id: uuid.UUID,
    key: str,
    recipients: str,
    message_id: str,
    *,
    reclaim_after_s: float,
) -> tuple[ClaimVerdict, str]:
    """Claim the (quote, key) mail for sending; returns the verdict and the Message-ID
    to send it with (a claim's own, once made).

    - `new`: the row is written `sending` (the caller commits it before calling SMTP);
    - `sent`: the mail server already took it;
    - `resend`: a claim older than `reclaim_after_s` is still `sending` (its attempt died
      between SMTP and marking it): it is taken over, to be sent again with its id;
    - `busy`: a younger claim is `sending`: another attempt may be sending it right now."""
    now = func.clock_timestamp()
    inserted = await session.scalar(
        insert(SentNotification)
        .values(
            id=uuid.uuid4(),
            quote_id=quote_id,
            key=key,
            recipients=recipients,
            state="sending",
            message_id=message_id,
            claimed_at=now,
        )
        .on_conflict_do_nothing(index_elements=["quote_id", "key"])
        .returning(SentNotification.id)
    )
    if inserted is not None:
        return "new", message_id
    row = (
        await session.execute(
            select(
                SentNotification.state,
                SentNotification.message_id,
                SentNotification.claimed_at < now - timedelta(seconds=reclaim_after_s),
            )
            .where(SentNotification.quote_id == quote_id, SentNotification.key == key)
            .with_for_update()
        )
    ).one()
    state, stored_id, stale = row
    if state == "sent":
        return "sent", stored_id or message_id
    if not stale:
        return "busy", stored_id or message_id
    await session.execute(
        update(SentNotification)
        .where(SentNotification.quote_id == quote_id, SentNotification.key == key)
        .values(claimed_at=now)
    )
    return "resend", stored_id or message_id


async def release_notification(
    session: AsyncSession, quote_id: uuid.UUID, key: str, message_id: str
) -> None:
    """Withdraw a claim whose mail the server refused: the retry sends it at once."""
    await session.execute(
        delete(SentNotification).where(
            SentNotification.quote_id == quote_id,
            SentNotification.key == key,
            SentNotification.state == "sending",
            SentNotification.message_id == message_id,
        )
    )


async def mark_notification_sent(session: AsyncSession, quote_id: uuid.UUID, key: str) -> None:
    await session.execute(
        update(SentNotification)
        .where(SentNotification.quote_id == quote_id, SentNotification.key == key)
        .values(state="sent", sent_at=func.clock_timestamp())
    )


async def user_email(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(select(User.email).where(User.id == user_id, User.active))


async def vendor_recipients(session: AsyncSession, vendor_id: uuid.UUID) -> list[str]:
    staff = (
        await session.scalars(
            select(User.email).where(User.vendor_id == vendor_id, User.active).order_by(User.email)
        )
    ).all()
    vendor_mail = await session.scalar(select(Vendor.email).where(Vendor.id == vendor_id))
    out = list(staff)
    if vendor_mail and vendor_mail not in out:
        out.insert(0, vendor_mail)
    return out


async def operator_emails(session: AsyncSession) -> list[str]:
    return list(
        (
            await session.scalars(
                select(User.email).where(User.role == "operator", User.active).order_by(User.email)
            )
        ).all()
    )


async def set_last_error(session: AsyncSession, quote_id: uuid.UUID, message: str) -> None:
    """Note a failing step's error on a quote still in flight."""
    await session.execute(
        update(Quote)
        .where(Quote.id == quote_id, Quote.status.not_in(FINAL_STATUSES))
        .values(last_error=message)
    )


async def clear_last_error(session: AsyncSession, quote_id: uuid.UUID, prefix: str) -> None:
    """Clear the quote's error if it starts with `prefix` (one step's errors only)."""
    await session.execute(
        update(Quote)
        .where(Quote.id == quote_id, Quote.last_error.startswith(prefix))
        .values(last_error=None)
    )
