"""Carts: one per buyer and vendor, priced from the live catalog.

Used by the carts API and by the quote workflow's request step:
- `snapshot_for_quote(session, buyer_id, vendor_slug) -> CartSnapshot` freezes a cart
  into priced lines (NotFound for an unknown/inactive vendor; InvalidInput on "items"
  for an empty cart or one holding unavailable lines; on "vendor" if the vendor is gone).
- `empty_cart(session, buyer_id, vendor_id)` drops that cart once the quote exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.carts import (
    CartItemOut,
    CartLineSnapshot,
    CartOut,
    CartSnapshot,
    CartVendor,
    variant_label,
)
from marketred.schemas.money import CURRENCY, line_total, quote_totals
from marketred.services.errors import InvalidInput, NotFound, Reason
from marketred.store.models import Product, Variant, Vendor
from marketred.store.repositories import carts as carts_repo
from marketred.store.repositories import vendors as vendors_repo
from marketred.store.repositories.carts import CartLineRow

# A tracked variant with stock 0 cannot be put in a cart.
OUT_OF_STOCK = Reason("VARIANT_SOLD_OUT", "this variant is out of stock")
CART_EMPTY = Reason("CART_EMPTY", "your cart for this vendor is empty")


async def _active_vendor(session: AsyncSession, vendor_slug: str) -> Vendor:
    vendor = await vendors_repo.get_by_slug(session, vendor_slug)
    if vendor is None or not vendor.active:
        raise NotFound(f"vendor {vendor_slug!r} not found")
    return vendor


def _available(row: CartLineRow) -> bool:
    return row.product_active and row.variant_active and row.vendor_active


def _item_out(row: CartLineRow) -> CartItemOut:
    return CartItemOut(
        variant_id=row.variant_id,
        product_id=row.product_id,
        product_name=row.product_name,
        variant_label=variant_label(row.options),
        sku=row.sku,
        options={str(k): str(v) for k, v in row.options.items()},
        quantity=row.quantity,
        unit_price=row.price,
        line_total=line_total(row.price, row.quantity),
        available=_available(row),
        stock=row.stock,
    )


def _cart_out(vendor: CartVendor, rows: Iterable[CartLineRow]) -> CartOut:
    items = [_item_out(r) for r in rows]
    # Unavailable lines stay visible (so the buyer sees what happened) but are not priced.
    total, _ = quote_totals(((i.unit_price, i.quantity) for i in items if i.available), 0)
    return CartOut(
        vendor=vendor,
        items=items,
        total=total,
        currency=CURRENCY,
        item_count=sum(i.quantity for i in items),
    )


async def list_carts(session: AsyncSession, buyer_id: uuid.UUID) -> list[CartOut]:
    """The buyer's non-empty carts of active vendors, oldest cart first."""
    by_vendor: dict[uuid.UUID, list[CartLineRow]] = {}
    for row in await carts_repo.cart_lines(session, buyer_id):
        if row.vendor_active:
            by_vendor.setdefault(row.vendor_id, []).append(row)
    return [
        _cart_out(CartVendor(id=r[0].vendor_id, slug=r[0].vendor_slug, name=r[0].vendor_name), r)
        for r in by_vendor.values()
    ]


async def get_cart(session: AsyncSession, buyer_id: uuid.UUID, vendor: Vendor) -> CartOut:
    rows = await carts_repo.cart_lines(session, buyer_id, vendor.id)
    return _cart_out(CartVendor(id=vendor.id, slug=vendor.slug, name=vendor.name), rows)


async def set_quantity(
    session: AsyncSession,
    buyer_id: uuid.UUID,
    vendor_slug: str,
    variant_id: uuid.UUID,
    quantity: int,
) -> CartOut:
    """Set one line's quantity (0 removes it) and return that vendor's cart."""
    if not 0 <= quantity <= 999:
        raise InvalidInput(
            "quantity out of range",
            errors=[("quantity", Reason("QUANTITY_RANGE", "between 0 and 999"))],
        )
    vendor = await _active_vendor(session, vendor_slug)
    variant = await session.get(Variant, variant_id)
    if variant is None or variant.vendor_id != vendor.id:
        raise NotFound(f"variant {variant_id} not found in {vendor_slug!r}")
    if quantity == 0:
        existing = await carts_repo.lock_cart(session, buyer_id, vendor.id)
        if existing is not None:
            await carts_repo.remove_item(session, existing, variant_id)
        return await get_cart(session, buyer_id, vendor)
    product = await session.get(Product, variant.product_id)
    if not variant.active or product is None or not product.active:
        raise InvalidInput(
            Reason("VARIANT_UNAVAILABLE", "this product is no longer available"),
            errors=[("variant_id", Reason("VARIANT_UNAVAILABLE", "not available"))],
        )
    if variant.stock == 0:
        raise InvalidInput(OUT_OF_STOCK, errors=[("variant_id", OUT_OF_STOCK)])
    if variant.stock is not None and quantity > variant.stock:
        msg = Reason("OUT_OF_STOCK", f"only {variant.stock} in stock", n=variant.stock)
        raise InvalidInput(msg, errors=[("quantity", msg)])
    # Lock first: concurrent writers of this cart queue here instead of racing.
    cart_id = await carts_repo.lock_or_create_cart(session, buyer_id, vendor.id)
    await carts_repo.upsert_item(session, cart_id, variant_id, quantity)
    return await get_cart(session, buyer_id, vendor)


def sold_out(exc: InvalidInput) -> bool:
    """The refusal was for a sold-out variant (pages say "agotado")."""
    return exc.code == OUT_OF_STOCK.code


async def clear_cart(session: AsyncSession, buyer_id: uuid.UUID, vendor_slug: str) -> None:
    vendor = await vendors_repo.get_by_slug(session, vendor_slug)
    if vendor is None:
        raise NotFound(f"vendor {vendor_slug!r} not found")
    await carts_repo.delete_cart(session, buyer_id, vendor.id)


async def snapshot_for_quote(
    session: AsyncSession, buyer_id: uuid.UUID, vendor_slug: str
) -> CartSnapshot:
    """Freeze the buyer's cart of this vendor into priced lines for a quote request.

    The cart row is locked until the caller's transaction ends, so a concurrent cart edit
    cannot slip between the snapshot and `empty_cart`.
    """
    _, snapshot = await vendor_cart_snapshot(session, buyer_id, vendor_slug)
    return snapshot


async def vendor_cart_snapshot(
    session: AsyncSession, buyer_id: uuid.UUID, vendor_slug: str
) -> tuple[Vendor, CartSnapshot]:
    """snapshot_for_quote, with the vendor it loaded (the session holds loaded rows only
    while someone refers to them: a later `session.get` would read it again)."""
    vendor = await _active_vendor(session, vendor_slug)
    if await carts_repo.lock_cart(session, buyer_id, vendor.id) is None:
        raise InvalidInput(CART_EMPTY, errors=[("items", Reason("CART_EMPTY", "empty cart"))])
    rows = await carts_repo.cart_lines(session, buyer_id, vendor.id)
    if not rows:
        raise InvalidInput(CART_EMPTY, errors=[("items", Reason("CART_EMPTY", "empty cart"))])
    problems: list[tuple[str, str]] = []
    for row in rows:
        if not _available(row):
            gone = f"{row.product_name} ({row.sku}) is no longer available"
            problems.append(
                (
                    "items",
                    Reason("CART_LINE_UNAVAILABLE", gone, name=row.product_name, sku=row.sku),
                )
            )
        elif row.stock == 0:
            sold_out = f"{row.product_name} ({row.sku}) is out of stock"
            problems.append(
                (
                    "items",
                    Reason("CART_LINE_SOLD_OUT", sold_out, name=row.product_name, sku=row.sku),
                )
            )
        elif row.stock is not None and row.quantity > row.stock:
            short = f"{row.product_name} ({row.sku}): only {row.stock} in stock"
            problems.append(
                (
                    "items",
                    Reason(
                        "CART_LINE_SHORT", short, name=row.product_name, sku=row.sku, n=row.stock
                    ),
                )
            )
    if problems:
        raise InvalidInput("some cart items cannot be quoted", errors=problems)
    lines = [
        CartLineSnapshot(
            variant_id=r.variant_id,
            product_id=r.product_id,
            product_name=r.product_name,
            variant_label=variant_label(r.options),
            sku=r.sku,
            quantity=r.quantity,
            unit_price=r.price,
        )
        for r in rows
    ]
    subtotal, _ = quote_totals(((ln.unit_price, ln.quantity) for ln in lines), 0)
    return vendor, CartSnapshot(
        vendor_id=vendor.id,
        vendor_slug=vendor.slug,
        vendor_name=vendor.name,
        commission_bps=vendor.commission_bps,
        currency=CURRENCY,
        lines=lines,
        subtotal=subtotal,
    )


async def empty_cart(session: AsyncSession, buyer_id: uuid.UUID, vendor_id: uuid.UUID) -> None:
    """Remove the buyer's cart of this vendor (after its quote was created). Idempotent."""
    await carts_repo.delete_cart(session, buyer_id, vendor_id)
