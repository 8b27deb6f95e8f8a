from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import User, Vendor, VendorBankAccountChange, VendorChange


async def get_by_slug(session: AsyncSession, slug: str) -> Vendor | None:
    return await session.scalar(select(Vendor).where(Vendor.slug == slug))


async def add(session: AsyncSession, vendor: Vendor) -> Vendor:
    session.add(vendor)
    await session.flush()
    return vendor


async def any_vendor(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Vendor)))


async def get_by_directory_id(session: AsyncSession, directory_id: str) -> Vendor | None:
    return await session.scalar(select(Vendor).where(Vendor.directory_id == directory_id))


async def id_by_slug(session: AsyncSession, slug: str) -> uuid.UUID | None:
    return await session.scalar(select(Vendor.id).where(Vendor.slug == slug))


async def all_by_name(session: AsyncSession) -> list[Vendor]:
    return list(await session.scalars(select(Vendor).order_by(Vendor.name)))


async def first_staff_email(session: AsyncSession, vendor_id: uuid.UUID) -> str | None:
    """The address of the vendor's longest-standing active staff member."""
    return await session.scalar(
        select(User.email)
        .where(User.vendor_id == vendor_id, User.active.is_(True))
        .order_by(User.created_at)
        .limit(1)
    )


async def changes(session: AsyncSession, vendor_id: uuid.UUID, limit: int) -> list[VendorChange]:
    """The vendor's settings changes, newest first."""
    rows = await session.scalars(
        select(VendorChange)
        .where(VendorChange.vendor_id == vendor_id)
        .order_by(VendorChange.created_at.desc(), VendorChange.id)
        .limit(limit)
    )
    return list(rows)


async def bank_account_changes(
    session: AsyncSession, vendor_id: uuid.UUID, limit: int
) -> list[VendorBankAccountChange]:
    """The vendor's bank account changes, newest first."""
    rows = await session.scalars(
        select(VendorBankAccountChange)
        .where(VendorBankAccountChange.vendor_id == vendor_id)
        .order_by(VendorBankAccountChange.created_at.desc())
        .limit(limit)
    )
    return list(rows)
