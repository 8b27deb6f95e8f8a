from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column

from marketred.schemas.accounts import Role
from marketred.store.base import Base, Timestamps, UUIDPk


class User(UUIDPk, Timestamps, Base):
    """A person who signs in: buyer, vendor staff (tied to one vendor) or operator."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('buyer', 'vendor', 'operator')", name="role"),
        CheckConstraint("(role = 'vendor') = (vendor_id IS NOT NULL)", name="vendor_staff"),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    # NULL for accounts that only sign in through the directory's OpenID Connect.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), server_default="")
    role: Mapped[Role] = mapped_column(String(16))
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(server_default=true())
    email_verified_at: Mapped[datetime | None]
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Bearer JWTs issued before this instant are refused (services/accounts/credentials.py).
    tokens_valid_after: Mapped[datetime | None]
    # The person deleted the account: personal data erased, the row kept under a
    # pseudonymous email so ledger, payouts and quotes still point at someone.
    erased_at: Mapped[datetime | None]
