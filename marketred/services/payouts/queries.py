"""Read side of payouts for the API and UI: lists, detail, CSV download, with ownership
(a vendor sees only its own payouts; another vendor's payout is a 404)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.schemas.banking import describe
from marketred.schemas.common import Page
from marketred.schemas.payouts import PayoutDetail, PayoutItemOut, PayoutOut, quote_number
from marketred.services.accounts import authz
from marketred.services.errors import NotFound
from marketred.services.payouts.report import with_bom
from marketred.store.models import Payout, Vendor
from marketred.store.repositories import payouts as repo
from marketred.store.repositories import vendors


def to_out(payout: Payout, vendor: Vendor) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        vendor=vendor.slug,
        vendor_name=vendor.name,
        status=payout.status,
        currency=payout.currency,
        gross=payout.gross,
        commission=payout.commission,
        net=payout.net,
        created_at=payout.created_at,
        approved_at=payout.approved_at,
        paid_at=payout.paid_at,
        reason=payout.reason,
        hold_code=payout.hold_code,
        workflow_id=payout.workflow_id,
        bank_account=(
            describe(
                payout.bank_code,
                payout.bank_account_type or "",
                payout.bank_account_number,
                payout.bank_holder_name or "",
            )
            if payout.bank_code and payout.bank_account_number
            else None
        ),
    )


async def list_payouts(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None = None,
    vendor_slug: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[PayoutOut]:
    vendor_id = authz.payout_scope(principal)
    if vendor_id is None and vendor_slug:
        vendor = await vendors.get_by_slug(session, vendor_slug)
        if vendor is None:
            return Page(items=[], total=0)
        vendor_id = vendor.id
    rows, total = await repo.list_with_vendor(
        session, vendor_id=vendor_id, status=status, limit=limit, offset=offset
    )
    return Page(items=[to_out(p, v) for p, v in rows], total=total)


async def visible_payout(
    session: AsyncSession, principal: Principal, payout_id: uuid.UUID
) -> tuple[Payout, Vendor]:
    payout = await repo.get(session, payout_id)
    if payout is None:
        raise NotFound("payout not found")
    try:
        authz.authorize_payout(principal, payout, "view")
    except NotFound as exc:
        raise NotFound("payout not found") from exc
    vendor = await session.get(Vendor, payout.vendor_id)
    assert vendor is not None
    return payout, vendor


async def payout_detail(
    session: AsyncSession, principal: Principal, payout_id: uuid.UUID
) -> PayoutDetail:
    payout, vendor = await visible_payout(session, principal, payout_id)
    items = [
        PayoutItemOut(
            quote_id=i.quote_id,
            quote_number=quote_number(n),
            kind=i.kind,
            gross=i.gross,
            commission=i.commission,
            net=i.net,
            occurred_at=i.occurred_at,
        )
        for i, n in await repo.items_of(session, payout.id)
    ]
    return PayoutDetail(
        **to_out(payout, vendor).model_dump(), items=items, provider_ref=payout.provider_ref
    )


async def report_csv(
    session: AsyncSession, principal: Principal, payout_id: uuid.UUID
) -> tuple[str, bytes]:
    """(file name, bytes with BOM) of the payout's CSV report."""
    payout, vendor = await visible_payout(session, principal, payout_id)
    day = payout.created_at.strftime("%Y%m%d")
    return f"pago-{vendor.slug}-{day}-{str(payout.id)[:8]}.csv", with_bom(payout.report_csv)
