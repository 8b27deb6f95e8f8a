from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.schemas.banking import AccountType
from marketred.store.base import Base, Timestamps, UUIDPk


class VendorBankAccount(Timestamps, Base):
    """Where a vendor's payouts are transferred (one account per vendor, set by its staff).

    Payouts copy these fields when they are created, so a change only affects payouts
    made after it; every change is logged in `vendor_bank_account_changes`.
    """

    __tablename__ = "vendor_bank_accounts"
    __table_args__ = (
        CheckConstraint("account_type IN ('corriente', 'vista', 'ahorro')", name="account_type"),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    bank_code: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[AccountType] = mapped_column(String(10))
    account_number: Mapped[str] = mapped_column(String(20))
    holder_name: Mapped[str] = mapped_column(String(100))
    holder_rut: Mapped[str] = mapped_column(String(12))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class VendorBankAccountChange(UUIDPk, Base):
    """Who changed a vendor's bank account, when, from what to what (account numbers
    masked: the log is read by people who need not see them whole)."""

    __tablename__ = "vendor_bank_account_changes"

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), index=True
    )
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_by_email: Mapped[str | None] = mapped_column(String(320))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # When the vendor was told by mail (NULL: the mail could not be sent).
    mailed_at: Mapped[datetime | None]
