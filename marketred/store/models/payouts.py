from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
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
    # Set once the statement mail went out, so a replayed step does not mail twice.
    statement_sent_at: Mapped[datetime | None]


class PayoutItem(UUIDPk, Base):
    """One line of a payout: a quote's sale (net of refunds posted before the payout took
    it), or one refund of a quote whose sale is already in a payout (`clawback`,
    negative amounts).

    Which ledger transactions a line carries is in `PayoutLedgerTxn`; its partial unique
    index (one live link per transaction) is what guarantees no sale and no refund is
    counted in two payouts. Rejecting a payout (or an operator marking its transfer as
    not executed) sets `released_at` on its items and links instead of deleting them: the
    rows go back to the pool for the next run while the payout keeps its record.
    """

    __tablename__ = "payout_items"
    __table_args__ = (
        Index(
            "uq_payout_items_live_sale",
            "quote_id",
            unique=True,
            postgresql_where=text("kind = 'sale' AND released_at IS NULL"),
        ),
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
    # When the item's money moved (sale completed or refund posted): the report's date.
    occurred_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]


class PayoutLedgerTxn(Base):
    """A ledger transaction (`ledger_entries.txn_id`: one sale or one refund of a quote)
    carried by a payout item. A transaction is in at most one live payout."""

    __tablename__ = "payout_ledger_txns"
    __table_args__ = (
        Index(
            "uq_payout_ledger_txns_live_txn",
            "txn_id",
            unique=True,
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    payout_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payout_items.id", ondelete="CASCADE"), primary_key=True
    )
    txn_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    payout_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payouts.id", ondelete="CASCADE"), index=True
    )
    released_at: Mapped[datetime | None]


class SandboxPayoutTransfer(UUIDPk, Base):
    """A transfer recorded by the dev/test `SandboxPayoutProvider` (no money moves).

    `idempotency_key` is unique (one per payout), so a transfer retried after a crash
    finds the first one instead of paying again; `attempts` counts how often it was asked.
    """

    __tablename__ = "sandbox_payout_transfers"

    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    payout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"))
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    attempts: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
