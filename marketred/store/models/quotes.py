from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from marketred.schemas.quotes import Actor, QuoteStatus
from marketred.store.base import Base, Timestamps, UUIDPk

QUOTE_NUMBER_SEQ = Sequence("quote_number_seq", metadata=Base.metadata)

# The CHECK constraint lists the statuses the contracts name (schemas.quotes.QuoteStatus).
QUOTE_STATUSES: tuple[QuoteStatus, ...] = get_args(QuoteStatus)


class Quote(UUIDPk, Timestamps, Base):
    """Projection of a QuoteWorkflow (the workflow is the source of truth).

    `version` grows with every transition the workflow reports; the projection activity
    only writes a row whose stored version is lower, so a replay never moves it back.
    """

    __tablename__ = "quotes"
    # Server defaults (the number from its sequence) come back in the INSERT's RETURNING
    # instead of a SELECT after it.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in QUOTE_STATUSES) + ")", name="status"
        ),
        CheckConstraint(
            "subtotal >= 0 AND shipping_cost >= 0 AND total >= 0", name="amounts_non_negative"
        ),
        CheckConstraint("total = subtotal + shipping_cost", name="total_is_sum"),
    )

    number: Mapped[int] = mapped_column(
        BigInteger, QUOTE_NUMBER_SEQ, server_default=QUOTE_NUMBER_SEQ.next_value(), unique=True
    )
    workflow_id: Mapped[str] = mapped_column(String(80), unique=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[QuoteStatus] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    subtotal: Mapped[int]
    shipping_cost: Mapped[int] = mapped_column(server_default="0")
    total: Mapped[int]
    commission_bps: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, server_default="")
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    vendor_note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    # Mirrored from the workflow's state (services/quotes/projection.py).
    waiting_for: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    ship_overdue: Mapped[bool] = mapped_column(server_default=false())
    response_extended: Mapped[bool] = mapped_column(server_default=false())
    carrier: Mapped[str | None] = mapped_column(String(120))
    tracking: Mapped[str | None] = mapped_column(String(120))
    respond_by: Mapped[datetime | None]
    pay_by: Mapped[datetime | None]
    ship_by: Mapped[datetime | None]
    auto_confirm_at: Mapped[datetime | None]
    next_deadline: Mapped[datetime | None] = mapped_column(index=True)
    accepted_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class QuoteLine(UUIDPk, Base):
    """Snapshot of one cart line at request time; the vendor may change its unit price."""

    __tablename__ = "quote_lines"
    __table_args__ = (
        UniqueConstraint("quote_id", "position"),
        # 0: the vendor dropped the line when accepting (requested_quantity says how many
        # the buyer asked for, change_reason why).
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("unit_price >= 0 AND original_unit_price >= 0", name="prices"),
    )

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("variants.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    product_name: Mapped[str] = mapped_column(String(200))
    variant_label: Mapped[str] = mapped_column(String(200), server_default="")
    sku: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(Integer)
    original_unit_price: Mapped[int]
    unit_price: Mapped[int]
    requested_quantity: Mapped[int | None] = mapped_column(Integer)
    change_reason: Mapped[str | None] = mapped_column(Text)


class StockReservation(Timestamps, Base):
    """Stock an accepted quote holds (already taken off `variants.stock`): `reserved`
    for the payment window, then `converted` (paid: gone for good) or `released` (the
    quote ended unpaid: given back). One row per quote and variant."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("state IN ('reserved', 'converted', 'released')", name="state"),
    )

    quote_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quotes.id", ondelete="CASCADE"), primary_key=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))


class QuoteEvent(UUIDPk, Base):
    """One timeline row per workflow transition or notable step (seq from the workflow)."""

    __tablename__ = "quote_events"
    __table_args__ = (UniqueConstraint("quote_id", "seq"),)

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[QuoteStatus] = mapped_column(String(20))
    actor: Mapped[Actor] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class QuoteStartOutbox(Base):
    """A quote whose workflow has not been started yet (docs/quotes.md, "Creation").

    Written in the transaction that records the quote, so the quote and the promise to
    start its workflow commit together; removed once Temporal has the workflow (started
    now or before). The API starts it right after the commit and sweeps what is left (a
    crash between commit and start, Temporal unreachable). Holds the workflow's input as
    the request built it, so a later start is the same start.
    """

    __tablename__ = "quote_start_outbox"

    quote_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quotes.id", ondelete="CASCADE"), primary_key=True
    )
    task_queue: Mapped[str] = mapped_column(String(200))
    workflow_input: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
