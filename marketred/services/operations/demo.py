"""Demo data for `marketred dev` and `marketred seed-demo`: three Chilean vendors with
valid RUTs, Spanish catalogs with variants and realistic CLP prices, and one account of
each role. Two vendors have a bank account for payouts; the third has none yet, so its
payouts show the "waiting for bank details" hold. Idempotent: it does nothing when
vendors already exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.demo_data import DEMO_BANK_ACCOUNTS, DEMO_VENDORS
from marketred.services.accounts import users as accounts
from marketred.services.directory import indexer as directory_indexer
from marketred.services.vendors import registry as vendors
from marketred.store.models import Product, Variant, VendorBankAccount
from marketred.store.repositories import vendors as vendors_repo

DEMO_PASSWORD = "marketred-demo"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    vendor: str | None = None


def demo_accounts() -> list[DemoAccount]:
    return [
        DemoAccount("operador@marketred.cl", "operator"),
        DemoAccount("comprador@marketred.cl", "buyer"),
        *(DemoAccount(f"staff@{v['slug']}.cl", "vendor", str(v["slug"])) for v in DEMO_VENDORS),
    ]


async def has_data(session: AsyncSession) -> bool:
    return await vendors_repo.any_vendor(session)


async def seed(session: AsyncSession, commission_bps: int) -> bool:
    """Insert the demo data; returns False (and changes nothing) if vendors exist."""
    if await has_data(session):
        return False
    for spec in DEMO_VENDORS:
        vendor = await vendors.create_vendor(
            session,
            name=str(spec["name"]),
            rut=str(spec["rut"]),
            slug=str(spec["slug"]),
            commission_bps=commission_bps,
            email=str(spec["email"]),
            phone=str(spec["phone"]),
            address=str(spec["address"]),
            description=str(spec["description"]),
            directory_id=str(spec["directory_id"]),
        )
        if vendor.slug in DEMO_BANK_ACCOUNTS:
            bank_code, account_type, number = DEMO_BANK_ACCOUNTS[vendor.slug]
            session.add(
                VendorBankAccount(
                    vendor_id=vendor.id,
                    bank_code=bank_code,
                    account_type=account_type,
                    account_number=number,
                    holder_name=vendor.name,
                    holder_rut=vendor.rut,
                )
            )
        for name, description, keywords, category, variants in spec["products"]:  # type: ignore[attr-defined]
            product = Product(
                vendor_id=vendor.id,
                name=name,
                description=description,
                keywords=keywords,
                category=category,
            )
            session.add(product)
            await session.flush()
            # The worker's outbox sweep pushes the demo catalog to the directory's indexer.
            await directory_indexer.record_changes(session, [product.id])
            for position, (sku, options, price) in enumerate(variants):
                session.add(
                    Variant(
                        product_id=product.id,
                        vendor_id=vendor.id,
                        sku=sku,
                        options=options,
                        price=price,
                        position=position,
                    )
                )
    for account in demo_accounts():
        user = await accounts.create_user(
            session,
            email=account.email,
            password=DEMO_PASSWORD,
            role=account.role,  # type: ignore[arg-type]
            name=account.email.split("@")[0].title(),
            vendor_slug=account.vendor,
        )
        # Our own demo addresses, the same people the directory sandbox signs in: verified,
        # so "Ingresar con InforedChile" links to them (it refuses unverified accounts
        # that have a password; linking then drops the demo password).
        await accounts.mark_email_verified(session, user)
    await session.flush()
    return True
