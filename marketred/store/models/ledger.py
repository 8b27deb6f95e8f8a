from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, UUIDPk

LEDGER_ACCOUNTS = (
    "buyer_payments",  # cash received from buyers through Khipu
    "platform_commission",  # our revenue
    "vendor_payable",  # what we owe vendors
    "vendor_payouts",  # cash sent to vendors
    "refunds",  # cash returned to buyers
)


class LedgerEntry(UUIDPk, Base):
    """Append-only double-entry row. Rows of one `txn_id` sum to zero (debits +, credits -).

    `key` is unique and derived from the business event (e.g. `quote:<id>:completed:...`),
    so a retried posting activity cannot post twice.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "account IN (" + ", ".join(f"'{a}'" for a in LEDGER_ACCOUNTS) + ")", name="account"
        ),
        CheckConstraint("amount <> 0", name="amount_non_zero"),
    )

    txn_id: Mapped[uuid.UUID] = mapped_column(index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    account: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="RESTRICT"), index=True
    )
    quote_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="RESTRICT"), index=True
    )
    payout_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payouts.id", ondelete="RESTRICT"), index=True
    )
    memo: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
