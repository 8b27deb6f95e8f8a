"""Payouts (docs/payouts.md): vendors read their own; operators read all, run and decide,
confirm or release transfers waiting for a person, and download the bank files.
Also the operators' reconciliation report.

Every decision honours an `Idempotency-Key`: a replayed request answers the first
answer (stored) and is the same Temporal update (its id derives from the key), so a
double submit changes the payout once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.api.idempotent import Idempotent, IdempotentRequest
from marketred.http.deps import (
    OperatorPrincipal,
    SessionDep,
    SettingsDep,
    TemporalDep,
    VendorOrOperator,
)
from marketred.schemas.accounts import Principal
from marketred.schemas.common import Page
from marketred.schemas.payouts import (
    BankFileOut,
    ConfirmTransferBody,
    PayoutDecisionResult,
    PayoutDetail,
    PayoutOut,
    PayoutRunResult,
    PayoutStatus,
    ReconciliationReport,
    RejectPayoutBody,
    ReleaseTransferBody,
)
from marketred.services.ledger import reconciliation
from marketred.services.payouts import bank_files as payout_bank_files
from marketred.services.payouts import commands as payout_commands
from marketred.services.payouts import queries as payout_queries

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
    idem: Idempotent,
) -> PayoutRunResult:
    """Create the payouts owed now (one per vendor). The same Idempotency-Key answers
    the same run instead of starting another (the key names the run's workflow)."""
    return await payout_commands.run_payouts(
        temporal, settings, requested_by=principal.user_id, idempotency_key=idem.scoped_key()
    )


@router.get("/payouts/bank-files")
async def list_bank_files(principal: OperatorPrincipal, session: SessionDep) -> list[BankFileOut]:
    """Bank transfer files (nóminas) of the payout runs, newest first."""
    del principal
    return await payout_bank_files.list_files(session)


@router.get("/payouts/bank-files/{bank_file_id}.csv")
async def download_bank_file(
    bank_file_id: uuid.UUID, principal: OperatorPrincipal, session: SessionDep
) -> Response:
    """The file to upload to the bank. The first download closes it: every later one is
    the same bytes, and payouts approved afterwards go into the run's next file."""
    name, body = await payout_bank_files.download(session, bank_file_id, principal.user_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
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


async def _decision(
    session: AsyncSession,
    principal: Principal,
    payout_id: uuid.UUID,
    idem: IdempotentRequest,
    body: BaseModel | None,
    decide: Callable[[str | None], Awaitable[PayoutDecisionResult]],
) -> PayoutDetail | JSONResponse:
    """Run a decision once per Idempotency-Key: a replay answers the stored response."""

    async def work(scoped: str | None) -> PayoutDetail:
        await decide(scoped)
        return await payout_queries.payout_detail(session, principal, payout_id)

    return await idem.run(body, work)


@router.post("/payouts/{payout_id}/approve", response_model=PayoutDetail)
async def approve_payout(
    payout_id: uuid.UUID,
    principal: OperatorPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> PayoutDetail | JSONResponse:
    return await _decision(
        session,
        principal,
        payout_id,
        idem,
        None,
        lambda k: payout_commands.approve_payout(
            temporal, session, payout_id, principal.user_id, key=k
        ),
    )


@router.post("/payouts/{payout_id}/reject", response_model=PayoutDetail)
async def reject_payout(
    payout_id: uuid.UUID,
    body: RejectPayoutBody,
    principal: OperatorPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> PayoutDetail | JSONResponse:
    return await _decision(
        session,
        principal,
        payout_id,
        idem,
        body,
        lambda k: payout_commands.reject_payout(
            temporal, session, payout_id, body.reason, principal.user_id, key=k
        ),
    )


@router.post("/payouts/{payout_id}/confirm-transfer", response_model=PayoutDetail)
async def confirm_transfer(
    payout_id: uuid.UUID,
    body: ConfirmTransferBody,
    principal: OperatorPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> PayoutDetail | JSONResponse:
    """The bank executed the transfer of a SUBMITTED payout (bank file) or of one HELD
    because its outcome was unknown: PAID with the bank's reference."""
    return await _decision(
        session,
        principal,
        payout_id,
        idem,
        body,
        lambda k: payout_commands.confirm_transfer(
            temporal, session, payout_id, body.reference, principal.user_id, key=k
        ),
    )


@router.post("/payouts/{payout_id}/release", response_model=PayoutDetail)
async def release_transfer(
    payout_id: uuid.UUID,
    body: ReleaseTransferBody,
    principal: OperatorPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> PayoutDetail | JSONResponse:
    """The transfer of a SUBMITTED or HELD payout was not executed: FAILED; its quotes go
    back to the next payout run."""
    return await _decision(
        session,
        principal,
        payout_id,
        idem,
        body,
        lambda k: payout_commands.release_transfer(
            temporal, session, payout_id, body.reason, principal.user_id, key=k
        ),
    )


@router.post("/payouts/{payout_id}/retry-transfer", response_model=PayoutDetail)
async def retry_transfer(
    payout_id: uuid.UUID,
    principal: OperatorPrincipal,
    session: SessionDep,
    temporal: TemporalDep,
    idem: Idempotent,
) -> PayoutDetail | JSONResponse:
    """Try again a payout HELD because the vendor had no bank account (it has one now)."""
    return await _decision(
        session,
        principal,
        payout_id,
        idem,
        None,
        lambda k: payout_commands.retry_transfer(
            temporal, session, payout_id, principal.user_id, key=k
        ),
    )


@router.get("/reconciliation")
async def reconciliation_report(
    principal: OperatorPrincipal,
    session: SessionDep,
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
) -> ReconciliationReport:
    del principal
    return await reconciliation.reconcile(session, date_from, date_to)
