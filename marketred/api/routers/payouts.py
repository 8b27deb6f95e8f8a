"""Payouts (design.md §8): vendors read their own; operators read all, run and decide.
Also the operators' reconciliation report."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from marketred.api.deps import (
    OperatorPrincipal,
    SessionDep,
    SettingsDep,
    TemporalDep,
    VendorOrOperator,
)
from marketred.schemas.common import Page
from marketred.schemas.payouts import (
    PayoutDetail,
    PayoutOut,
    PayoutRunResult,
    PayoutStatus,
    ReconciliationReport,
    RejectPayoutBody,
)
from marketred.services import idempotency, payout_commands, payout_queries, reconciliation

router = APIRouter(prefix="/api/v1", tags=["payouts"])


@router.get("/payouts")
async def list_payouts(
    principal: VendorOrOperator,
    session: SessionDep,
    status: PayoutStatus | None = None,
    vendor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[PayoutOut]:
    return await payout_queries.list_payouts(
        session, principal, status=status, vendor_slug=vendor, limit=limit, offset=offset
    )


@router.post("/payouts/run", status_code=201)
async def run_payouts(
    principal: OperatorPrincipal,
    settings: SettingsDep,
    temporal: TemporalDep,
    key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None,
) -> PayoutRunResult:
    """Create the payouts owed now (one per vendor). The same Idempotency-Key answers
    the same run instead of starting another."""
    scoped = f"{principal.user_id}:{idempotency.validate_key(key)}" if key else None
    return await payout_commands.run_payouts(
        temporal, settings, requested_by=principal.user_id, idempotency_key=scoped
    )


@router.get("/payouts/{payout_id}")
async def get_payout(
    payout_id: uuid.UUID, principal: VendorOrOperator, session: SessionDep
) -> PayoutDetail:
    return await payout_queries.payout_detail(session, principal, payout_id)


@router.get("/payouts/{payout_id}/report.csv")
async def payout_report(
    payout_id: uuid.UUID, principal: VendorOrOperator, session: SessionDep
) -> Response:
    filename, body = await payout_queries.report_csv(session, principal, payout_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/payouts/{payout_id}/approve")
async def approve_payout(
    payout_id: uuid.UUID, principal: OperatorPrincipal, session: SessionDep, temporal: TemporalDep
) -> PayoutDetail:
    await payout_commands.approve_payout(temporal, session, payout_id, principal.user_id)
    return await payout_queries.payout_detail(session, principal, payout_id)


@router.post("/payouts/{payout_id}/reject")
async def reject_payout(
    payout_id: uuid.UUID,
    body: RejectPayoutBody,
    principal: OperatorPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
) -> PayoutDetail:
    await payout_commands.reject_payout(
        temporal, session, payout_id, body.reason, principal.user_id
    )
    return await payout_queries.payout_detail(session, principal, payout_id)


@router.get("/reconciliation")
async def reconciliation_report(
    principal: OperatorPrincipal,
    session: SessionDep,
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
) -> ReconciliationReport:
    del principal
    return await reconciliation.reconcile(session, date_from, date_to)
