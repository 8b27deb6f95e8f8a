from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, UUIDPk


class MediaBlob(Base):
    """One stored rendition, named by its content hash (so its URL can be cached forever).
    Kept in PostgreSQL: one backup covers the catalog and its photos."""

    __tablename__ = "media_blobs"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProductImage(UUIDPk, Base):
    """A product's photo: position 0 is the main one; `digest` names its renditions."""

    __tablename__ = "product_images"
    __table_args__ = (UniqueConstraint("product_id", "digest"),)

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64))
    alt: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
