"""Cart SQL. Writes to one cart are serialized by locking the cart row, and items are
upserted on (cart_id, variant_id), so concurrent updates never lose an item."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Cart, CartItem, Product, Variant, Vendor


@dataclass(frozen=True)
class CartLineRow:
    cart_id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_slug: str
    vendor_name: str
    vendor_active: bool
    commission_bps: int
    variant_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    product_active: bool
    variant_active: bool
    sku: str
    options: dict[str, Any]
    price: int
    currency: str
    stock: int | None
    quantity: int


async def lock_or_create_cart(
    session: AsyncSession, buyer_id: uuid.UUID, vendor_id: uuid.UUID
) -> uuid.UUID:
    """The cart id, created if missing, with its row locked until the transaction ends."""
    await session.execute(
        insert(Cart)
        .values(id=uuid.uuid4(), buyer_id=buyer_id, vendor_id=vendor_id)
        .on_conflict_do_nothing(index_elements=["buyer_id", "vendor_id"])
    )
    cart_id = await session.scalar(
        select(Cart.id)
        .where(Cart.buyer_id == buyer_id, Cart.vendor_id == vendor_id)
        .with_for_update()
    )
    assert cart_id is not None  # inserted above or by a concurrent transaction
    return cart_id


async def lock_cart(
    session: AsyncSession, buyer_id: uuid.UUID, vendor_id: uuid.UUID
) -> uuid.UUID | None:
    return await session.scalar(
        select(Cart.id)
        .where(Cart.buyer_id == buyer_id, Cart.vendor_id == vendor_id)
        .with_for_update()
    )


async def upsert_item(
    session: AsyncSession, cart_id: uuid.UUID, variant_id: uuid.UUID, quantity: int
) -> None:
    # clock_timestamp, not now(): lines added in one transaction keep their order.
    stmt = insert(CartItem).values(
        id=uuid.uuid4(),
        cart_id=cart_id,
        variant_id=variant_id,
        quantity=quantity,
        created_at=func.clock_timestamp(),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["cart_id", "variant_id"],
            set_={"quantity": stmt.excluded.quantity, "updated_at": func.now()},
        )
    )
    await session.execute(update(Cart).where(Cart.id == cart_id).values(updated_at=func.now()))


async def remove_item(session: AsyncSession, cart_id: uuid.UUID, variant_id: uuid.UUID) -> None:
    await session.execute(
        delete(CartItem).where(CartItem.cart_id == cart_id, CartItem.variant_id == variant_id)
    )


async def delete_cart(session: AsyncSession, buyer_id: uuid.UUID, vendor_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(Cart).where(Cart.buyer_id == buyer_id, Cart.vendor_id == vendor_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cart_lines(
    session: AsyncSession, buyer_id: uuid.UUID, vendor_id: uuid.UUID | None = None
) -> list[CartLineRow]:
    """Every line of the buyer's carts (or of one vendor's cart) with current catalog data,
    ordered by cart creation then line creation."""
    stmt = (
        select(
            Cart.id,
            Vendor.id,
            Vendor.slug,
            Vendor.name,
            Vendor.active,
            Vendor.commission_bps,
            Variant.id,
            Product.id,
            Product.name,
            Product.active,
            Variant.active,
            Variant.sku,
            Variant.options,
            Variant.price,
            Variant.currency,
            Variant.stock,
            CartItem.quantity,
        )
        .join(CartItem, CartItem.cart_id == Cart.id)
        .join(Variant, Variant.id == CartItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .join(Vendor, Vendor.id == Cart.vendor_id)
        .where(Cart.buyer_id == buyer_id)
        .order_by(Cart.created_at, Cart.id, CartItem.created_at, CartItem.id)
    )
    if vendor_id is not None:
        stmt = stmt.where(Cart.vendor_id == vendor_id)
    rows = (await session.execute(stmt)).all()
    return [CartLineRow(*tuple(row)) for row in rows]
