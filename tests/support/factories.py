"""Plain async factory functions for test data (conventions: no factory framework)."""

from __future__ import annotations

import random
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Role
from marketred.schemas.rut import check_digit
from marketred.services.accounts import tokens
from marketred.services.accounts import users as accounts
from marketred.services.vendors import registry as vendors
from marketred.settings import Settings
from marketred.store.models import Payout, Product, Quote, User, Variant, Vendor

PASSWORD = "correct horse battery"


def random_rut() -> str:
    body = random.randint(10_000_000, 79_999_999)
    return f"{body}-{check_digit(body)}"


async def make_vendor(db: AsyncSession, name: str | None = None, **kw: object) -> Vendor:
    name = name or f"Empresa {uuid.uuid4().hex[:6]}"
    return await vendors.create_vendor(
        db,
        name=name,
        rut=random_rut(),
        commission_bps=int(kw.pop("commission_bps", 1000)),  # type: ignore[call-overload]
        **kw,  # type: ignore[arg-type]
    )


async def make_user(
    db: AsyncSession, role: Role = "buyer", vendor: Vendor | None = None, email: str | None = None
) -> User:
    return await accounts.create_user(
        db,
        email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.cl",
        password=PASSWORD,
        role=role,
        vendor_slug=vendor.slug if vendor else None,
    )


def auth_headers(settings: Settings, user: User) -> dict[str, str]:
    token = tokens.issue_access_token(settings.secret_key, user.id, 30)
    return {"Authorization": f"Bearer {token}"}


async def make_product(
    db: AsyncSession,
    vendor: Vendor,
    name: str = "Producto de prueba",
    prices: tuple[int, ...] = (12990,),
    **kw: object,
) -> tuple[Product, list[Variant]]:
    product = Product(vendor_id=vendor.id, name=name, **kw)
    db.add(product)
    await db.flush()
    variants = []
    for i, price in enumerate(prices):
        v = Variant(
            product_id=product.id,
            vendor_id=vendor.id,
            sku=f"SKU-{uuid.uuid4().hex[:8]}",
            options={"opcion": str(i)},
            price=price,
            position=i,
        )
        db.add(v)
        variants.append(v)
    await db.flush()
    return product, variants


async def make_quote_row(
    db: AsyncSession, buyer: User, vendor: Vendor, total: int = 12990, status: str = "REQUESTED"
) -> Quote:
    """A quotes row alone (no workflow behind it): what authorization and listing see."""
    quote = Quote(
        workflow_id=f"quote-{uuid.uuid4()}",
        buyer_id=buyer.id,
        vendor_id=vendor.id,
        status=status,
        subtotal=total,
        total=total,
        commission_bps=1000,
    )
    db.add(quote)
    await db.flush()
    return quote


async def make_payout_row(
    db: AsyncSession, vendor: Vendor, gross: int, workflow_id: str | None = None
) -> Payout:
    """A payout row awaiting approval (10 % commission), no workflow behind it."""
    commission = gross // 10
    payout = Payout(
        vendor_id=vendor.id,
        workflow_id=workflow_id or f"payout-{uuid.uuid4()}",
        status="PENDING_APPROVAL",
        gross=gross,
        commission=commission,
        net=gross - commission,
    )
    db.add(payout)
    await db.flush()
    return payout
