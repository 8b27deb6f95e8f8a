"""Sign-in state: web sessions, personal API tokens, emailed one-time tokens, rate limits.

Secrets (session ids, API tokens, emailed tokens) are stored only as SHA-256 hashes: the
database alone never lets anyone act as a user.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, UUIDPk


class WebSession(UUIDPk, Base):
    """A browser session; the cookie carries a signed random id whose hash is `id_hash`."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Absolute end of life; the idle limit is checked against last_seen_at.
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # How the person signed in ("password" or "oidc"), for the account page and audits.
    method: Mapped[str] = mapped_column(String(16), server_default="password")


class ApiToken(UUIDPk, Base):
    """A personal API token for integrations; shown once, stored hashed."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Vendor staff tokens are scoped to the vendor they were made for.
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    # First characters of the token, shown in lists so people can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class EmailToken(UUIDPk, Base):
    """A single-use, short-lived token mailed to a user (email check, password reset)."""

    __tablename__ = "email_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="purpose"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RateLimitCounter(Base):
    """Per-window counter shared by every API replica: one row per key and fixed window
    (services/accounts/rate_limits.py slides over the current and the previous one)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, server_default="0")
    # Old windows are deleted by this column (see services/accounts/rate_limits.py).
    expires_at: Mapped[datetime] = mapped_column(index=True)
