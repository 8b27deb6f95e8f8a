"""ORM rows → catalog API shapes (one place, so vendor and public views agree)."""

from __future__ import annotations

from collections.abc import Iterable

from marketred.schemas.carts import variant_label
from marketred.schemas.catalog import ProductOut, VariantOut, VendorOut, VendorRef
from marketred.store.models import Product, Variant, Vendor

KEYWORD_SEPARATOR = ", "


def keywords_to_text(keywords: Iterable[str]) -> str:
    return KEYWORD_SEPARATOR.join(k.replace(",", " ").strip() for k in keywords if k.strip())


def keywords_from_text(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def vendor_ref(vendor: Vendor) -> VendorRef:
    return VendorRef(id=vendor.id, slug=vendor.slug, name=vendor.name)


def vendor_out(vendor: Vendor) -> VendorOut:
    return VendorOut(
        id=vendor.id,
        slug=vendor.slug,
        name=vendor.name,
        rut=vendor.rut,
        directory_id=vendor.directory_id,
        description=vendor.description,
        logo_url=vendor.logo_url,
        email=vendor.email,
        phone=vendor.phone,
        address=vendor.address,
        categories=list(vendor.categories or []),
    )


def variant_out(variant: Variant) -> VariantOut:
    options = {str(k): str(v) for k, v in (variant.options or {}).items()}
    return VariantOut(
        id=variant.id,
        sku=variant.sku,
        options=options,
        label=variant_label(options),
        price=variant.price,
        currency=variant.currency,
        stock=variant.stock,
        active=variant.active,
    )


def product_out(product: Product, vendor: Vendor, variants: Iterable[Variant]) -> ProductOut:
    outs = [variant_out(v) for v in variants]
    prices = [v.price for v in outs if v.active]
    return ProductOut(
        id=product.id,
        vendor=vendor_ref(vendor),
        name=product.name,
        description=product.description,
        keywords=keywords_from_text(product.keywords),
        category=product.category,
        image_urls=[str(u) for u in product.image_urls or []],
        active=product.active,
        variants=outs,
        min_price=min(prices) if prices else None,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )
