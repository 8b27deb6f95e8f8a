"""Inbound company sync from the directory (docs/directory.md, "Company sync in").

The directory PUTs a signed JSON company; we upsert the vendor by directory id. Rules:
- the signature (method, path, time, body) is checked before anything is parsed (401,
  nothing written);
- the slug is made from the name on first sight and then kept;
- an update older than the stored `updated_at` is ignored (answered 200 with a note);
- `active: false` hides the vendor (and, through it, its products) without deleting.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations import directory as wire
from marketred.schemas.directory import CompanySyncResult, CompanyUpdate
from marketred.services.directory import indexer as directory_indexer
from marketred.services.errors import Conflict, InvalidInput, Unauthorized
from marketred.services.vendors import registry as vendors
from marketred.store.models import Vendor
from marketred.store.repositories import directory as repo

DIRECTORY_ID_MAX = 80


@dataclass(frozen=True)
class SyncOutcome:
    result: CompanySyncResult
    # Products whose indexer document changed (vendor renamed, hidden or shown again).
    reindex: list[uuid.UUID]


def authenticate(secret: str, header: str | None, method: str, path: str, body: bytes) -> None:
    try:
        wire.verify(secret, header, method, path, body)
    except wire.SignatureError as exc:
        raise Unauthorized(str(exc), headers={"WWW-Authenticate": "DirectorySignature"}) from exc


def parse_company(directory_id: str, body: bytes) -> CompanyUpdate:
    if not directory_id or len(directory_id) > DIRECTORY_ID_MAX:
        raise InvalidInput("bad directory id", errors=[("directory_id", "1 to 80 characters")])
    try:
        return CompanyUpdate.model_validate_json(body)
    except ValidationError as exc:
        errors = [(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
        raise InvalidInput("invalid company data", errors=errors) from exc


def _apply(vendor: Vendor, directory_id: str, company: CompanyUpdate) -> None:
    vendor.directory_id = directory_id
    vendor.name = company.name
    vendor.rut = company.rut
    vendor.email = str(company.email) if company.email else None
    vendor.phone = company.phone
    vendor.address = company.address
    vendor.logo_url = company.logo_url
    vendor.categories = list(company.categories)
    vendor.active = company.active
    vendor.directory_updated_at = company.updated_at


def _result(vendor: Vendor, directory_id: str, outcome: str, note: str | None) -> CompanySyncResult:
    return CompanySyncResult.model_validate(
        {
            "directory_id": directory_id,
            "vendor": vendor.slug,
            "name": vendor.name,
            "active": vendor.active,
            "outcome": outcome,
            "note": note,
        }
    )


async def upsert_company(
    session: AsyncSession, directory_id: str, company: CompanyUpdate, *, commission_bps: int
) -> SyncOutcome:
    vendor = await repo.lock_vendor_of_company(session, directory_id, company.rut)
    if vendor is None:
        try:
            async with session.begin_nested():
                vendor = await vendors.create_vendor(
                    session,
                    name=company.name,
                    rut=company.rut,
                    commission_bps=commission_bps,
                    directory_id=directory_id,
                )
                _apply(vendor, directory_id, company)
                await session.flush()
        except IntegrityError as exc:
            # Two first updates of one company raced; the directory retries the loser.
            raise Conflict("the company is being created by a concurrent update") from exc
        return SyncOutcome(_result(vendor, directory_id, "created", None), [])

    stored = vendor.directory_updated_at
    if stored is not None and company.updated_at < stored:
        note = (
            f"ignored: updated_at {company.updated_at.isoformat()} is older than the "
            f"stored {stored.isoformat()}"
        )
        return SyncOutcome(_result(vendor, directory_id, "ignored", note), [])

    visible_change = vendor.name != company.name or vendor.active != company.active
    _apply(vendor, directory_id, company)
    await session.flush()
    reindex = await repo.product_ids_of_vendor(session, vendor.id) if visible_change else []
    await directory_indexer.record_changes(session, reindex)
    return SyncOutcome(_result(vendor, directory_id, "updated", None), reindex)


async def sync_company(
    session: AsyncSession,
    *,
    secret: str,
    signature: str | None,
    method: str,
    path: str,
    directory_id: str,
    body: bytes,
    commission_bps: int,
) -> SyncOutcome:
    """Authenticate, validate, upsert. Raises before writing anything if any check fails."""
    authenticate(secret, signature, method, path, body)
    company = parse_company(directory_id, body)
    return await upsert_company(session, directory_id, company, commission_bps=commission_bps)
