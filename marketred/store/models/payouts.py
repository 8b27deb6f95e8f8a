from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, Timestamps, UUIDPk


class Payout(UUIDPk, Timestamps, Base):
    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('PENDING_APPROVAL', 'APPROVED', 'PAID', 'REJECTED', 'FAILED')",
            name="status",
        ),
        CheckConstraint("net = gross - commission", name="net_is_gross_minus_commission"),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="RESTRICT"), index=True
    )
    workflow_id: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    gross: Mapped[int]
    commission: Mapped[int]
    net: Mapped[int]
    report_csv: Mapped[str] = mapped_column(Text, server_default="")
    reason: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]


class PayoutItem(UUIDPk, Base):
    """One quote's sale (or clawback) inside a payout. A quote is in at most one payout
    per kind: the unique constraint is what guarantees no quote is paid out twice."""

    __tablename__ = "payout_items"
    __table_args__ = (
        UniqueConstraint("quote_id", "kind"),
        CheckConstraint("kind IN ('sale', 'clawback')", name="kind"),
    )

    payout_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payouts.id", ondelete="CASCADE"), index=True
    )
    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(10), server_default="sale")
    gross: Mapped[int]
    commission: Mapped[int]
    net: Mapped[int]
