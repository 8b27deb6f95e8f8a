"""Shared test helpers for the catalog area: a vendor with a signed-in staff member."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.settings import Settings
from marketred.store.models import User, Vendor
from tests.support.factories import auth_headers, make_user, make_vendor


@dataclass
class Actor:
    user: User
    headers: dict[str, str]


@dataclass
class VendorActor(Actor):
    vendor: Vendor


async def vendor_actor(
    db: AsyncSession, settings: Settings, name: str | None = None
) -> VendorActor:
    vendor = await make_vendor(db, name)
    user = await make_user(db, "vendor", vendor)
    return VendorActor(user=user, headers=auth_headers(settings, user), vendor=vendor)


async def buyer_actor(db: AsyncSession, settings: Settings) -> Actor:
    user = await make_user(db, "buyer")
    return Actor(user=user, headers=auth_headers(settings, user))


def product_body(name: str = "Polera de algodón", **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "description": "Polera 100% algodón, hecha en Chile",
        "keywords": ["ropa", "polera"],
        "category": "Vestuario",
        "image_urls": ["https://img.example.cl/polera.jpg"],
        "variants": [
            {"sku": "POL-M-GRIS", "options": {"talla": "M", "color": "gris"}, "price": 12990},
            {
                "sku": "POL-L-GRIS",
                "options": {"talla": "L", "color": "gris"},
                "price": 13990,
                "stock": 5,
            },
        ],
    }
    body.update(kw)
    return body


async def create_product(
    client: httpx.AsyncClient, actor: VendorActor, body: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post("/api/v1/vendor/products", json=body, headers=actor.headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data
