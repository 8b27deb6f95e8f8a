"""Vendor administration (CLI, directory sync): creation with a unique slug; where to
mail a vendor."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.rut import normalize_rut
from marketred.schemas.slugs import slugify
from marketred.services.errors import Conflict, InvalidInput
from marketred.store.models import Vendor
from marketred.store.repositories import vendors as vendors_repo


async def unique_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name)
    slug, n = base, 2
    while await vendors_repo.get_by_slug(session, slug) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


async def create_vendor(
    session: AsyncSession,
    *,
    name: str,
    rut: str,
    slug: str | None = None,
    commission_bps: int,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    description: str | None = None,
    directory_id: str | None = None,
) -> Vendor:
    try:
        rut = normalize_rut(rut)
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[("rut", str(exc))]) from exc
    if not name.strip():
        raise InvalidInput("name is empty", errors=[("name", "required")])
    if slug is not None:
        if slug != slugify(slug):
            raise InvalidInput("bad slug", errors=[("slug", "use lowercase letters, digits, -")])
        if await vendors_repo.get_by_slug(session, slug) is not None:
            raise Conflict(f"vendor {slug!r} already exists")
    vendor = Vendor(
        slug=slug or await unique_slug(session, name),
        name=name.strip(),
        rut=rut,
        commission_bps=commission_bps,
        email=email,
        phone=phone,
        address=address,
        description=description,
        directory_id=directory_id,
    )
    return await vendors_repo.add(session, vendor)


async def vendor_mail_address(session: AsyncSession, vendor: Vendor) -> str | None:
    """The vendor's company address, else its first active staff member's."""
    if vendor.email:
        return vendor.email
    return await vendors_repo.first_staff_email(session, vendor.id)
