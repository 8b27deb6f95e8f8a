"""Per-buyer data keys (envelope encryption of personal data in Temporal histories)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base


class DataSubjectKey(Base):
    """A buyer's AES-256 data key, stored only wrapped (AES-GCM) by a codec master key.

    Erasing the account sets `wrapped_key` to NULL: every payload encrypted with it, in
    every workflow history, becomes unreadable without rewriting any history."""

    __tablename__ = "data_subject_keys"

    subject_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # nonce (12 bytes) + ciphertext of the 32-byte key + GCM tag; NULL once shredded.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Which master key (MARKETRED_CODEC_KEYS id) wrapped it.
    master_key_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    shredded_at: Mapped[datetime | None]
