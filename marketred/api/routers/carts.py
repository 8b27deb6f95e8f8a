"""The buyer's carts: one per vendor."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from marketred.http.deps import BuyerPrincipal, SessionDep
from marketred.schemas.carts import CartOut, SetCartQuantity
from marketred.schemas.common import Page
from marketred.services.accounts import authz
from marketred.services.catalog import carts

router = APIRouter(prefix="/api/v1/carts", tags=["carts"])


@router.get("")
async def list_carts(buyer: BuyerPrincipal, session: SessionDep) -> Page[CartOut]:
    items = await carts.list_carts(session, authz.cart_owner(buyer, "view"))
    return Page[CartOut](items=items, total=len(items))


@router.put("/{vendor_slug}/items/{variant_id}")
async def set_item(
    vendor_slug: str,
    variant_id: uuid.UUID,
    body: SetCartQuantity,
    buyer: BuyerPrincipal,
    session: SessionDep,
) -> CartOut:
    return await carts.set_quantity(
        session, authz.cart_owner(buyer, "change"), vendor_slug, variant_id, body.quantity
    )


@router.delete("/{vendor_slug}", status_code=204)
async def clear_cart(vendor_slug: str, buyer: BuyerPrincipal, session: SessionDep) -> Response:
    await carts.clear_cart(session, authz.cart_owner(buyer, "change"), vendor_slug)
    return Response(status_code=204)
