from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, func, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, Timestamps, UUIDPk


class Vendor(UUIDPk, Timestamps, Base):
    """A selling company. Its slug is made from the name on first sight and then kept."""

    __tablename__ = "vendors"
    __table_args__ = (
        CheckConstraint("commission_bps >= 0 AND commission_bps <= 10000", name="commission_bps"),
        CheckConstraint("response_hours IS NULL OR response_hours > 0", name="response_hours"),
        CheckConstraint("payment_hours IS NULL OR payment_hours > 0", name="payment_hours"),
        CheckConstraint("ship_days IS NULL OR ship_days > 0", name="ship_days"),
        CheckConstraint(
            "auto_confirm_days IS NULL OR auto_confirm_days > 0", name="auto_confirm_days"
        ),
    )

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rut: Mapped[str] = mapped_column(String(12))
    directory_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    active: Mapped[bool] = mapped_column(server_default=true())
    # Commission in basis points; NULL would be ambiguous, so the default is copied in.
    commission_bps: Mapped[int] = mapped_column(Integer, server_default="1000")
    # Deadline overrides; NULL means "use the settings default".
    response_hours: Mapped[int | None] = mapped_column(Integer)
    payment_hours: Mapped[int | None] = mapped_column(Integer)
    ship_days: Mapped[int | None] = mapped_column(Integer)
    auto_confirm_days: Mapped[int | None] = mapped_column(Integer)
    # The directory's own updated_at of the last applied company update (out-of-order guard).
    directory_updated_at: Mapped[datetime | None]


class VendorChange(UUIDPk, Base):
    """One change to a vendor's settings: who (staff or operator), when, which field, from
    what to what. Read in the back office and the console; never edited."""

    __tablename__ = "vendor_changes"

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), index=True
    )
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_by_email: Mapped[str | None] = mapped_column(String(320))
    field: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
