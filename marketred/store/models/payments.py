from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, Timestamps, UUIDPk


class Payment(UUIDPk, Timestamps, Base):
    """Our record of the one Khipu payment of a quote.

    The row is written *before* calling Khipu (status `creating`, no Khipu id) so that a
    create that timed out can be resolved instead of blindly retried.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("quote_id"),
        UniqueConstraint("khipu_payment_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"
        ),
    )

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="RESTRICT"))
    transaction_id: Mapped[str] = mapped_column(String(255))
    khipu_payment_id: Mapped[str | None] = mapped_column(String(32))
    payment_url: Mapped[str | None] = mapped_column(String(1024))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    status: Mapped[str] = mapped_column(String(20), server_default="creating")
    status_detail: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    refunded_amount: Mapped[int] = mapped_column(server_default="0")
    refunded_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class PaymentEvent(UUIDPk, Base):
    """A raw Khipu notification as received; unique per payment id and body digest."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("khipu_payment_id", "body_sha256"),)

    khipu_payment_id: Mapped[str] = mapped_column(String(32), index=True)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="SET NULL"), index=True
    )
    body_sha256: Mapped[str] = mapped_column(String(64))
    raw_body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    signature_t: Mapped[int]
    # "unknown_payment" events are kept for operators and never touch a quote.
    outcome: Mapped[str] = mapped_column(String(30), server_default="received")
    received_at: Mapped[datetime]


class PaymentRefund(UUIDPk, Timestamps, Base):
    """One partial refund of a quote's Khipu payment (a return, an operator's refund).

    Written as `sending` and committed *before* Khipu is called: Khipu has no idempotency
    key for refunds, so an attempt that finds `sending` left behind cannot know whether
    the earlier one went through and must not call again (the workflow holds the refund
    for an operator). `refund_id` is the workflow's, the same one the ledger posts under.
    """

    __tablename__ = "payment_refunds"
    __table_args__ = (
        UniqueConstraint("refund_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ('sending', 'done', 'refused')", name="state"),
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="RESTRICT"))
    refund_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int]
    state: Mapped[str] = mapped_column(String(10))
    last_error: Mapped[str | None] = mapped_column(Text)
