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
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from marketred.api.actions import ActionCall, add_action
from marketred.api.idempotent import Idempotent
from marketred.http.deps import (
    OperatorPrincipal,
    SessionDep,
    SettingsDep,
    TemporalDep,
    VendorOrOperator,
)
from marketred.http.downloads import csv_attachment
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
    return csv_attachment(name, body)


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
    return csv_attachment(filename, body)


def _decision(
    action: str,
    name: str,
    command: Callable[..., Awaitable[PayoutDecisionResult]],
    body: type[BaseModel] | None = None,
    text: Callable[[Any], str] | None = None,
    doc: str | None = None,
) -> None:
    """`POST /api/v1/payouts/{payout_id}/<action>` (operators) → the decision command
    `command(temporal, session, payout_id[, text(body)], operator, key=…)`; answers the
    payout as it is then."""

    async def work(call: ActionCall, key: str | None) -> PayoutDetail:
        args = () if text is None else (text(call.body),)
        who = call.principal
        await command(call.temporal, call.session, call.target_id, *args, who.user_id, key=key)
        return await payout_queries.payout_detail(call.session, who, call.target_id)

    add_action(
        router,
        f"/payouts/{{payout_id}}/{action}",
        name,
        work,
        principal=OperatorPrincipal,
        response_model=PayoutDetail,
        body=body,
        doc=doc,
    )


_decision("approve", "approve_payout", payout_commands.approve_payout)
_decision(
    "reject",
    "reject_payout",
    payout_commands.reject_payout,
    RejectPayoutBody,
    lambda body: body.reason,
)
_decision(
    "confirm-transfer",
    "confirm_transfer",
    payout_commands.confirm_transfer,
    ConfirmTransferBody,
    lambda body: body.reference,
    """The bank executed the transfer of a SUBMITTED payout (bank file) or of one HELD
    because its outcome was unknown: PAID with the bank's reference.""",
)
_decision(
    "release",
    "release_transfer",
    payout_commands.release_transfer,
    ReleaseTransferBody,
    lambda body: body.reason,
    """The transfer of a SUBMITTED or HELD payout was not executed: FAILED; its quotes go
    back to the next payout run.""",
)
_decision(
    "retry-transfer",
    "retry_transfer",
    payout_commands.retry_transfer,
    doc="Try again a payout HELD because the vendor had no bank account (it has one now).",
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
