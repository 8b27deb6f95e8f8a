"""A vendor's own settings (its staff, in the back office) and what only operators set
(commission, active), each change logged in `vendor_changes` with who and when.

Deadlines are overrides of the platform's defaults (NULL: the default), bounded by the
operator's MARKETRED_VENDOR_*_MIN/MAX settings; quotes read them when they are created
(services/quotes/creation.py), so a change applies to the next quote, never a running one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, EmailStr, Field
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.logs import get_logger
from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz
from marketred.services.catalog.image_processing import (
    CONTENT_TYPE,
    ImageRefused,
    process_in_thread,
)
from marketred.services.catalog.media_store import MediaStore
from marketred.services.errors import InvalidInput, NotFound
from marketred.settings import Settings
from marketred.store.models import Vendor, VendorChange
from marketred.store.repositories import vendors as vendors_repo

log = get_logger(__name__)


class VendorSettingsIn(BaseModel):
    """What a vendor's staff may set. Empty deadlines mean the platform's default."""

    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()-]{6,40}$")
    description: str | None = Field(default=None, max_length=2000)
    response_hours: int | None = None
    payment_hours: int | None = None
    ship_days: int | None = None


@dataclass(frozen=True)
class Bounds:
    field: str
    low: int
    high: int
    default: int


def deadline_bounds(settings: Settings) -> list[Bounds]:
    return [
        Bounds(
            "response_hours",
            settings.vendor_response_hours_min,
            settings.vendor_response_hours_max,
            settings.vendor_response_hours,
        ),
        Bounds(
            "payment_hours",
            settings.vendor_payment_hours_min,
            settings.vendor_payment_hours_max,
            settings.payment_window_hours,
        ),
        Bounds(
            "ship_days",
            settings.vendor_ship_days_min,
            settings.vendor_ship_days_max,
            settings.ship_by_days,
        ),
    ]


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: str | None
    after: str | None
    by: str | None
    at: datetime


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _record(session: AsyncSession, vendor: Vendor, who: Principal, field: str,
            before: object, after: object) -> bool:  # fmt: skip
    if _text(before) == _text(after):
        return False
    session.add(
        VendorChange(
            vendor_id=vendor.id,
            changed_by=who.user_id,
            changed_by_email=who.email or None,
            field=field,
            before=_text(before),
            after=_text(after),
        )
    )
    log.info("vendor_setting_changed", vendor=vendor.slug, field=field, by=who.email)
    return True


async def _vendor(session: AsyncSession, vendor_id: uuid.UUID) -> Vendor:
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("vendor not found")
    return vendor


async def own_vendor(session: AsyncSession, who: Principal) -> Vendor:
    authz.require_role(who, "vendor")
    if who.vendor_id is None:
        raise NotFound("no vendor")
    return await _vendor(session, who.vendor_id)


async def save_own_settings(
    session: AsyncSession, settings: Settings, who: Principal, body: VendorSettingsIn
) -> list[str]:
    """Apply the staff's form; returns the fields that changed (each one logged)."""
    vendor = await own_vendor(session, who)
    errors = [
        (b.field, f"between {b.low} and {b.high}")
        for b in deadline_bounds(settings)
        if (value := getattr(body, b.field)) is not None and not b.low <= value <= b.high
    ]
    if errors:
        raise InvalidInput("deadline out of bounds", errors=errors)
    changed = []
    for field in ("email", "phone", "description", *(b.field for b in deadline_bounds(settings))):
        new = getattr(body, field)
        if isinstance(new, str):
            new = new.strip() or None
        if _record(session, vendor, who, field, getattr(vendor, field), new):
            setattr(vendor, field, new)
            changed.append(field)
    await session.flush()
    return changed


async def set_logo(
    session: AsyncSession,
    who: Principal,
    data: bytes,
    public_url: str,
    store: MediaStore,
) -> str:
    """The store's logo: the same pipeline as product photos (re-encoded, metadata
    dropped, bombs refused), served from /media; replaces a logo the directory sent."""
    vendor = await own_vendor(session, who)
    try:
        processed = await process_in_thread(data)
    except ImageRefused as exc:
        raise InvalidInput(exc.reason, errors=[("logo", exc.reason)]) from exc
    for size, rendition in processed.renditions.items():
        await store.put(session, processed.key(size), rendition, CONTENT_TYPE)
    url = f"{public_url.rstrip('/')}/media/{processed.key('md')}"
    if _record(session, vendor, who, "logo_url", vendor.logo_url, url):
        vendor.logo_url = url
    await session.flush()
    return url


async def set_commission(
    session: AsyncSession, who: Principal, vendor_id: uuid.UUID, commission_bps: int
) -> bool:
    """Operators only; applies to quotes requested from now on (each quote keeps its own)."""
    authz.require_role(who, "operator")
    if not 0 <= commission_bps <= 10000:
        raise InvalidInput("commission out of range", errors=[("commission_bps", "0 to 10000")])
    vendor = await _vendor(session, vendor_id)
    if not _record(session, vendor, who, "commission_bps", vendor.commission_bps, commission_bps):
        return False
    vendor.commission_bps = commission_bps
    await session.flush()
    return True


async def set_active(
    session: AsyncSession, who: Principal, vendor_id: uuid.UUID, active: bool
) -> bool:
    """Operators only. An inactive vendor's store, products and carts are hidden; its
    quotes already running go on (money already asked for is not abandoned)."""
    authz.require_role(who, "operator")
    vendor = await _vendor(session, vendor_id)
    if not _record(session, vendor, who, "active", vendor.active, active):
        return False
    vendor.active = active
    await session.flush()
    return True


async def changes(session: AsyncSession, vendor_id: uuid.UUID, limit: int = 50) -> list[ChangeRow]:
    rows = await vendors_repo.changes(session, vendor_id, limit)
    return [ChangeRow(c.field, c.before, c.after, c.changed_by_email, c.created_at) for c in rows]


async def all_vendors(session: AsyncSession, who: Principal) -> list[Vendor]:
    authz.require_role(who, "operator")
    return await vendors_repo.all_by_name(session)
