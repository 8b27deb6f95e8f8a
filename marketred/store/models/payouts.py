from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketred.schemas.banking import AccountType
from marketred.schemas.payouts import HoldCode, PayoutItemKind, PayoutStatus
from marketred.store.base import Base, Timestamps, UUIDPk

PAYOUT_STATUSES = (
    "PENDING_APPROVAL",  # waiting for an operator
    "APPROVED",  # being transferred
    "SUBMITTED",  # in a bank file: waits for an operator to confirm the bank executed it
    "HELD",  # outcome unknown or bank details missing: a person resolves it
    "PAID",
    "REJECTED",
    "FAILED",  # not executed (refused, or an operator said so): its quotes were released
)
HOLD_CODES = ("missing_bank_details", "transfer_uncertain", "transfer_failed")


class Payout(UUIDPk, Timestamps, Base):
    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in PAYOUT_STATUSES) + ")", name="status"
        ),
        CheckConstraint("net = gross - commission", name="net_is_gross_minus_commission"),
        CheckConstraint(
            "hold_code IS NULL OR hold_code IN (" + ", ".join(f"'{c}'" for c in HOLD_CODES) + ")",
            name="hold_code",
        ),
        CheckConstraint(
            "transfer_state IS NULL OR transfer_state IN ('sending', 'not_sent', 'done')",
            name="transfer_state",
        ),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="RESTRICT"), index=True
    )
    workflow_id: Mapped[str] = mapped_column(String(120), unique=True)
    # The payout run (PayoutWorkflow id) that made it: its bank file is that run's.
    run_workflow_id: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[PayoutStatus] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    gross: Mapped[int]
    commission: Mapped[int]
    net: Mapped[int]
    report_csv: Mapped[str] = mapped_column(Text, server_default="")
    reason: Mapped[str | None] = mapped_column(Text)
    # Why it is HELD (see HOLD_CODES); `reason` says it in words.
    hold_code: Mapped[HoldCode | None] = mapped_column(String(30))
    held_at: Mapped[datetime | None]
    # The provider's reference, or the bank's reference an operator confirmed.
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    # Who confirmed the transfer executed, or marked it not executed.
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    # Set once the statement mail went out, so a replayed step does not mail twice.
    statement_sent_at: Mapped[datetime | None]
    # The transfer step's own progress: 'sending' is written before asking the provider,
    # so a step that finds it there knows an earlier attempt may have moved the money.
    transfer_state: Mapped[str | None] = mapped_column(String(12))
    # The vendor's bank account as it was when the payout was made (filled when the
    # vendor adds one later, if the payout was made without).
    bank_code: Mapped[str | None] = mapped_column(String(3))
    bank_account_type: Mapped[AccountType | None] = mapped_column(String(10))
    bank_account_number: Mapped[str | None] = mapped_column(String(20))
    bank_holder_name: Mapped[str | None] = mapped_column(String(100))
    bank_holder_rut: Mapped[str | None] = mapped_column(String(12))


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
    kind: Mapped[PayoutItemKind] = mapped_column(String(10), server_default="sale")
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


class PayoutBankFile(UUIDPk, Base):
    """A bank transfer file (nómina de pagos) of one payout run, kept in the database.

    Approved payouts of the run add their line while the file is open; the first
    download closes it (its CSV is frozen in `content`, so every later download is the
    same bytes and the treasurer can never upload a line twice by downloading again).
    A payout approved after that starts the run's next file (`seq` + 1).
    """

    __tablename__ = "payout_bank_files"
    __table_args__ = (UniqueConstraint("run_workflow_id", "seq"),)

    run_workflow_id: Mapped[str] = mapped_column(String(120))
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str | None] = mapped_column(Text)


class PayoutBankFileLine(UUIDPk, Base):
    """One payout's transfer in a bank file: unique per payout, which is what makes adding
    it idempotent across worker replicas."""

    __tablename__ = "payout_bank_file_lines"

    bank_file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payout_bank_files.id", ondelete="RESTRICT"), index=True
    )
    payout_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payouts.id", ondelete="RESTRICT"), unique=True
    )
    amount: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # An operator said this transfer was not executed: later renderings leave it out.
    voided_at: Mapped[datetime | None]
