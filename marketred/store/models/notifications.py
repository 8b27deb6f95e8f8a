from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, UUIDPk

NotificationState = Literal["sending", "sent"]


class SentNotification(UUIDPk, Base):
    """The outbox row of one quote mail (key = event and party): claimed as `sending`
    with its Message-ID and committed before the mail server is called, marked `sent`
    once it accepted the message (services/quotes/notifications.py)."""

    __tablename__ = "quote_notifications"
    __table_args__ = (
        UniqueConstraint("quote_id", "key"),
        CheckConstraint("state IN ('sending', 'sent')", name="state"),
    )

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    recipients: Mapped[str] = mapped_column(Text)
    state: Mapped[NotificationState] = mapped_column(String(8))
    # Without angle brackets; rows from before the outbox have none.
    message_id: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]
