"""Demo data for `marketred dev` and `marketred seed-demo`: three Chilean vendors with
valid RUTs, Spanish catalogs with variants and realistic CLP prices, and one account of
each role. Two vendors have a bank account for payouts; the third has none yet, so its
payouts show the "waiting for bank details" hold. Idempotent: it does nothing when
vendors already exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services import accounts, directory_indexer, vendors
from marketred.store.models import Product, Variant, VendorBankAccount
from marketred.store.repositories import vendors as vendors_repo

DEMO_PASSWORD = "marketred-demo"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    vendor: str | None = None


_VENDORS = [
    {
        "slug": "cafe-altiplano",
        "name": "Café Altiplano SpA",
        "rut": "76.086.428-5",
        "email": "ventas@cafealtiplano.cl",
        "phone": "+56 2 2345 6789",
        "address": "Av. Italia 1234, Ñuñoa, Santiago",
        "directory_id": "inf-1001",
        "description": "Tostaduría de especialidad en Ñuñoa.",
        "products": [
            (
                "Café de grano Etiopía Yirgacheffe",
                "Tueste medio, notas florales y cítricas.",
                "café grano especialidad etiopía",
                "Café",
                [
                    ("CAF-ETI-250", {"formato": "250 g"}, 8990),
                    ("CAF-ETI-1K", {"formato": "1 kg"}, 29990),
                ],
            ),
            (
                "Café molido Colombia Huila",
                "Molienda media para cafetera italiana.",
                "café molido colombia",
                "Café",
                [("CAF-COL-250", {"formato": "250 g"}, 7490)],
            ),
            (
                "Chocolate amargo 70% cacao",
                "Barra artesanal con cacao de Ecuador.",
                "chocolate cacao barra",
                "Dulces",
                [("CHO-70-100", {"formato": "100 g"}, 3990)],
            ),
        ],
    },
    {
        "slug": "textiles-chiloe",
        "name": "Textiles Chiloé Ltda.",
        "rut": "77.123.456-9",
        "email": "contacto@textileschiloe.cl",
        "phone": "+56 65 263 1234",
        "address": "Calle Blanco 456, Castro, Chiloé",
        "directory_id": "inf-1002",
        "description": "Tejidos de lana natural hechos a mano en Castro.",
        "products": [
            (
                "Chaleco de lana chilota",
                "Tejido a mano con lana de oveja teñida con plantas.",
                "chaleco lana tejido chiloé",
                "Vestuario",
                [
                    ("CHA-S-GRIS", {"talla": "S", "color": "gris"}, 34990),
                    ("CHA-M-GRIS", {"talla": "M", "color": "gris"}, 34990),
                    ("CHA-L-CRUDO", {"talla": "L", "color": "crudo"}, 36990),
                ],
            ),
            (
                "Gorro de lana",
                "Gorro tejido, abrigador y suave.",
                "gorro lana invierno",
                "Vestuario",
                [("GOR-UNI", {"talla": "única"}, 12990)],
            ),
        ],
    },
    {
        "slug": "zapateria-valparaiso",
        "name": "Zapatería Valparaíso EIRL",
        "rut": "76.543.210-3",
        "email": "hola@zapateriavalpo.cl",
        "phone": "+56 32 221 3344",
        "address": "Cerro Alegre 789, Valparaíso",
        "directory_id": "inf-1003",
        "description": "Calzado de cuero hecho a mano en el puerto.",
        "products": [
            (
                "Zapato de cuero clásico",
                "Cuero curtido vegetal, suela de goma.",
                "zapato cuero hombre mujer",
                "Calzado",
                [
                    ("ZAP-39-CAFE", {"talla": "39", "color": "café"}, 59990),
                    ("ZAP-41-NEGRO", {"talla": "41", "color": "negro"}, 59990),
                ],
            ),
            (
                "Botín de gamuza",
                "Botín con cierre lateral.",
                "botín gamuza",
                "Calzado",
                [("BOT-38", {"talla": "38"}, 69990)],
            ),
        ],
    },
]


# Where two of the vendors are paid (bank code, account type, number).
_BANK_ACCOUNTS = {
    "cafe-altiplano": ("012", "corriente", "00012345678"),
    "textiles-chiloe": ("016", "vista", "777012345678"),
}


def demo_accounts() -> list[DemoAccount]:
    return [
        DemoAccount("operador@marketred.cl", "operator"),
        DemoAccount("comprador@marketred.cl", "buyer"),
        *(DemoAccount(f"staff@{v['slug']}.cl", "vendor", str(v["slug"])) for v in _VENDORS),
    ]


async def has_data(session: AsyncSession) -> bool:
    return await vendors_repo.any_vendor(session)


async def seed(session: AsyncSession, commission_bps: int) -> bool:
    """Insert the demo data; returns False (and changes nothing) if vendors exist."""
    if await has_data(session):
        return False
    for spec in _VENDORS:
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
        if vendor.slug in _BANK_ACCOUNTS:
            bank_code, account_type, number = _BANK_ACCOUNTS[vendor.slug]
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
