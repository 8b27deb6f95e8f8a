from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, UUIDPk


class FeaturedItem(UUIDPk, Base):
    """A product, or every product of a vendor, featured by an operator for a period (the
    seed's advertising): shown in the home page's "Destacados" row and boosted, marked,
    in the embed search. Ending one early sets `ends_at`; rows are never deleted."""

    __tablename__ = "featured_items"
    __table_args__ = (
        CheckConstraint("(product_id IS NULL) <> (vendor_id IS NULL)", name="one_target"),
        CheckConstraint("ends_at > starts_at", name="period"),
    )

    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by_email: Mapped[str | None] = mapped_column(String(320))
    ended_by_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
