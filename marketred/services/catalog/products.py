"""A vendor's own catalog: products and variants. Another vendor's product is NotFound.

The caller owns the transaction. Writes validate what pydantic cannot (SKU unique per
vendor, at least one variant) and answer InvalidInput naming the field.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.schemas.catalog import (
    ProductIn,
    ProductOut,
    ProductPatch,
    VariantIn,
    VariantOut,
    VariantPatch,
)
from marketred.schemas.common import Page
from marketred.services.accounts import authz
from marketred.services.catalog.views import keywords_to_text, product_out, variant_out
from marketred.services.directory import indexer as directory_indexer
from marketred.services.errors import Conflict, InvalidInput, NotFound, Reason
from marketred.store.models import Product, Variant, Vendor
from marketred.store.repositories import catalog as repo

SKU_USED = Reason("SKU_TAKEN", "SKU already used")
TAKEN = Reason("SKU_TAKEN", "already used")


async def _own_vendor(session: AsyncSession, principal: Principal) -> Vendor:
    vendor = await repo.get_vendor(session, authz.catalog_owner(principal))
    if vendor is None:
        raise NotFound("vendor not found")
    return vendor


async def own_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> Product:
    authz.catalog_owner(principal)
    product = await repo.get_product(session, product_id)
    try:
        if product is None:
            raise NotFound("no such product")
        authz.authorize_product(principal, product, "manage")
    except NotFound as exc:
        raise NotFound(f"product {product_id} not found") from exc
    return product


async def _own_variant(session: AsyncSession, product: Product, variant_id: uuid.UUID) -> Variant:
    variant = await session.get(Variant, variant_id)
    if variant is None or variant.product_id != product.id:
        raise NotFound(f"variant {variant_id} not found")
    return variant


async def _flush(session: AsyncSession, sku_field: str) -> None:
    """Flush; a concurrent writer that took the same SKU surfaces as a 422 on that field."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_variants_vendor_id_sku" in str(exc.orig):
            raise InvalidInput(SKU_USED, errors=[(sku_field, TAKEN)]) from exc
        raise


async def view_product(session: AsyncSession, product: Product) -> ProductOut:
    vendor = await repo.get_vendor(session, product.vendor_id)
    assert vendor is not None
    return product_out(product, vendor, await repo.variants_of(session, [product.id]))


async def list_own_products(
    session: AsyncSession, principal: Principal, *, limit: int, offset: int
) -> Page[ProductOut]:
    vendor = await _own_vendor(session, principal)
    products, total = await repo.vendor_products(
        session, vendor.id, public=False, limit=limit, offset=offset
    )
    variants = await repo.variants_of(session, [p.id for p in products])
    items = [
        product_out(p, vendor, [v for v in variants if v.product_id == p.id]) for p in products
    ]
    return Page[ProductOut](items=items, total=total)


async def get_own_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> ProductOut:
    return await view_product(session, await own_product(session, principal, product_id))


async def create_product(
    session: AsyncSession, principal: Principal, body: ProductIn
) -> ProductOut:
    vendor = await _own_vendor(session, principal)
    taken = await repo.existing_skus(session, vendor.id, [v.sku for v in body.variants])
    errors = [
        (f"variants[{i}].sku", Reason("SKU_TAKEN", "already used by another product of yours"))
        for i, v in enumerate(body.variants)
        if v.sku in taken
    ]
    if errors:
        raise InvalidInput(SKU_USED, errors=errors)
    product = Product(
        id=uuid.uuid4(),
        vendor_id=vendor.id,
        name=body.name,
        description=body.description,
        keywords=keywords_to_text(body.keywords),
        category=body.category,
        image_urls=list(body.image_urls),
        active=body.active,
    )
    session.add(product)
    for position, v in enumerate(body.variants):
        session.add(_new_variant(product, v, position))
    await _flush(session, "variants")
    await directory_indexer.record_changes(session, [product.id])
    await session.refresh(product)
    return await view_product(session, product)


def _new_variant(product: Product, body: VariantIn, position: int) -> Variant:
    return Variant(
        id=uuid.uuid4(),
        product_id=product.id,
        vendor_id=product.vendor_id,
        sku=body.sku,
        options=dict(body.options),
        price=body.price,
        stock=body.stock,
        active=body.active,
        position=position,
    )


async def update_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, body: ProductPatch
) -> ProductOut:
    product = await own_product(session, principal, product_id)
    changes = body.model_dump(exclude_unset=True)
    if "keywords" in changes:
        changes["keywords"] = keywords_to_text(changes["keywords"])
    for field, value in changes.items():
        setattr(product, field, value)
    await session.flush()
    await directory_indexer.record_changes(session, [product.id])
    await session.refresh(product)
    return await view_product(session, product)


async def delete_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> None:
    product = await own_product(session, principal, product_id)
    if await repo.product_was_quoted(session, product.id):
        raise Conflict(
            Reason(
                "PRODUCT_QUOTED",
                "this product appears in quotes; deactivate it instead (active: false)",
            )
        )
    await repo.delete_product(session, product.id)
    await directory_indexer.record_changes(session, [product.id])


async def add_variant(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, body: VariantIn
) -> VariantOut:
    product = await own_product(session, principal, product_id)
    if await repo.existing_skus(session, product.vendor_id, [body.sku]):
        raise InvalidInput(SKU_USED, errors=[("sku", TAKEN)])
    position = await repo.next_variant_position(session, product.id)
    variant = _new_variant(product, body, position)
    session.add(variant)
    await _flush(session, "sku")
    await directory_indexer.record_changes(session, [product.id])
    await session.refresh(variant)
    return variant_out(variant)


async def update_variant(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    variant_id: uuid.UUID,
    body: VariantPatch,
) -> VariantOut:
    product = await own_product(session, principal, product_id)
    variant = await _own_variant(session, product, variant_id)
    changes = body.model_dump(exclude_unset=True)
    if "sku" in changes and changes["sku"] != variant.sku:
        if await repo.existing_skus(session, product.vendor_id, [changes["sku"]]):
            raise InvalidInput(SKU_USED, errors=[("sku", TAKEN)])
    for field, value in changes.items():
        setattr(variant, field, value)
    await _flush(session, "sku")
    await directory_indexer.record_changes(session, [product.id])
    await session.refresh(variant)
    return variant_out(variant)


async def delete_variant(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, variant_id: uuid.UUID
) -> None:
    product = await own_product(session, principal, product_id)
    variant = await _own_variant(session, product, variant_id)
    if await repo.variant_was_quoted(session, variant.id):
        raise Conflict(
            Reason(
                "VARIANT_QUOTED",
                "this variant appears in quotes; deactivate it instead (active: false)",
            )
        )
    if await repo.count_variants(session, product.id) <= 1:
        raise InvalidInput(
            "a product needs at least one variant; delete or deactivate the product instead",
            errors=[("variant_id", Reason("LAST_VARIANT", "last variant of the product"))],
        )
    await repo.delete_variant(session, variant.id)
    await directory_indexer.record_changes(session, [product.id])
