"""Cart shapes: the API (one cart per buyer and vendor) and the snapshot a quote is made of."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from pydantic import BaseModel, Field

from marketred.schemas.common import StrictModel
from marketred.schemas.money import CURRENCY

MAX_CART_QUANTITY = 999


class SetCartQuantity(StrictModel):
    """Body of PUT /api/v1/carts/{vendor_slug}/items/{variant_id}; 0 removes the line."""

    quantity: int = Field(ge=0, le=MAX_CART_QUANTITY, strict=True)


class CartVendor(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class CartItemOut(BaseModel):
    variant_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    variant_label: str
    sku: str
    options: dict[str, str]
    quantity: int
    unit_price: int
    line_total: int
    # False when the product or variant was deactivated after being put in the cart;
    # such a line is shown but does not count in the total and blocks a quote request.
    available: bool = True
    stock: int | None = None


class CartOut(BaseModel):
    vendor: CartVendor
    items: list[CartItemOut]
    total: int
    currency: str = CURRENCY
    item_count: int


class CartLineSnapshot(BaseModel):
    """One cart line frozen at quote-request time (current catalog price)."""

    variant_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    variant_label: str
    sku: str
    quantity: int
    unit_price: int


class CartSnapshot(BaseModel):
    """What a quote request is built from: the vendor, its commission and priced lines."""

    vendor_id: uuid.UUID
    vendor_slug: str
    vendor_name: str
    commission_bps: int
    currency: str = CURRENCY
    lines: list[CartLineSnapshot]
    subtotal: int


def variant_label(options: Mapping[str, object]) -> str:
    """`{"color": "gris", "talla": "M"}` → `"color: gris, talla: M"`, in the order given
    (options come back from JSONB in its canonical key order, so labels are stable)."""
    return ", ".join(f"{k}: {v}" for k, v in options.items())
