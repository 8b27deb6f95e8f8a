from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, UUIDPk


class SentNotification(UUIDPk, Base):
    """One row per quote mail already sent (key = event), so a retried activity or a
    replayed workflow never mails the same thing twice."""

    __tablename__ = "quote_notifications"
    __table_args__ = (UniqueConstraint("quote_id", "key"),)

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    recipients: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())
