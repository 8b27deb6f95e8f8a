from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base, Timestamps, UUIDPk


class Product(UUIDPk, Timestamps, Base):
    __tablename__ = "products"

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vendors.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    keywords: Mapped[str] = mapped_column(Text, server_default="")
    category: Mapped[str | None] = mapped_column(String(120))
    image_urls: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    active: Mapped[bool] = mapped_column(server_default=true())
    # Spanish full-text vector, computed by PostgreSQL (migration 0003_catalog); deferred so
    # ordinary product loads do not carry it.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(name)), 'A') || "
            "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(keywords)), 'B') || "
            "setweight(to_tsvector('spanish'::regconfig, "
            "marketred_unaccent(coalesce(category, ''))), 'C') || "
            "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(description)), 'D')",
            persisted=True,
        ),
        deferred=True,
    )
    # The name alone, same configuration (migration 0010): search takes name matches first.
    name_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('spanish'::regconfig, marketred_unaccent(name))", persisted=True),
        deferred=True,
    )


class SearchWord(Base):
    """A distinct word of the product names, folded (unaccented, lower case): what search
    corrects a misspelt query against. Filled by triggers on `products` (migration 0010)."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(Text, primary_key=True)


class Variant(UUIDPk, Timestamps, Base):
    """A sellable option of a product (talla, color...). SKU is unique per vendor."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("vendor_id", "sku"),
        CheckConstraint("price > 0 AND price <= 1000000000", name="price"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    # Denormalized from the product so "SKU unique per vendor" is a real constraint.
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    sku: Mapped[str] = mapped_column(String(80))
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    price: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), server_default="CLP")
    # NULL = stock not tracked.
    stock: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(server_default=true())
    position: Mapped[int] = mapped_column(Integer, server_default="0")


class IndexerOutbox(Base):
    """A product the directory's indexer must hear about (docs/directory.md, "Indexer push out").

    Written in the same transaction as the catalog change, so a crash after the commit or
    an unreachable Temporal cannot lose the push; removed once the product's indexer
    workflow was signalled. No foreign key: a deleted product still needs its push.
    """

    __tablename__ = "indexer_outbox"

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # clock_timestamp(), not now(): a later change in a long transaction must compare newer.
    changed_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
