"""Payout workflows on the Temporal dev server with the real activities and database:
approval, rejection, racing decisions, a run racing refunds, and running twice."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.payouts import (
    ApprovePayoutInput,
    PayoutRunInput,
    PayoutRunResult,
    PayoutSummary,
    RejectPayoutInput,
    VendorPayoutResult,
)
from marketred.store.models import LedgerEntry, Payout, SandboxPayoutTransfer, Vendor
from marketred.store.session import transaction
from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow
from tests.payouts.conftest import PayoutStack, run_id
from tests.payouts.helpers import completed_sale, live_items, make_seller, refund

pytestmark = pytest.mark.db

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Write a finished workflow's history to tests/histories/payout_<name>.json when asked
    (MARKETRED_RECORD_HISTORIES=1); test_payout_replay.py replays it from then on."""
    if os.environ.get("MARKETRED_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    # The workflow id goes with the events: the run derives its payouts' ids from it.
    recorded = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
    (HISTORIES / f"payout_{name}.json").write_text(json.dumps(recorded, indent=1))


async def run_payouts(
    stack: PayoutStack, vendor: Vendor, record: str | None = None
) -> list[PayoutSummary]:
    handle = await stack.client.start_workflow(
        PayoutWorkflow.run,
        PayoutRunInput(trigger="manual"),
        id=run_id(),
        task_queue=stack.settings.temporal_task_queue,
    )
    result: PayoutRunResult = await handle.result()
    if record:
        await record_history(handle, record)
    return [p for p in result.payouts if p.vendor_id == vendor.id]


async def running_payout(
    stack: PayoutStack, payout: PayoutSummary, *, finished: bool = False
) -> WorkflowHandle[VendorPayoutWorkflow, VendorPayoutResult]:
    """The payout's workflow, checked to be waiting for a decision on this payout."""
    handle: WorkflowHandle[VendorPayoutWorkflow, VendorPayoutResult] = (
        stack.client.get_workflow_handle(payout.workflow_id, result_type=VendorPayoutResult)
    )
    if not finished:
        state = await handle.query(VendorPayoutWorkflow.state)
        assert state.payout_id == payout.payout_id
        assert state.status == "PENDING_APPROVAL"
    return handle


async def approve(stack: PayoutStack, payout: PayoutSummary) -> VendorPayoutResult:
    handle = await running_payout(stack, payout)
    decision = await handle.execute_update(VendorPayoutWorkflow.approve, ApprovePayoutInput())
    assert decision.status == "APPROVED"
    return await handle.result()


async def seller_with_sales(stack: PayoutStack, totals: list[int]):  # type: ignore[no-untyped-def]
    async with transaction(stack.sessions) as db:
        vendor, _staff, buyer = await make_seller(db)
        quotes = [await completed_sale(db, vendor, buyer, t) for t in totals]
    return vendor, buyer, quotes


async def test_approved_payout_is_transferred_once_marked_paid_posted_and_mailed(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    vendor, _buyer, quotes = await seller_with_sales(stack, [12_990, 5_005, 30_000, 9_990])
    async with transaction(stack.sessions) as db:
        await refund(db, quotes[3])

    [payout] = await run_payouts(stack, vendor, record="run")
    assert (payout.items, payout.gross, payout.commission, payout.net) == (3, 47_995, 4_800, 43_195)

    result = await approve(stack, payout)
    await record_history(await running_payout(stack, payout, finished=True), "approved")

    assert result.status == "PAID"
    async with transaction(stack.sessions) as db:
        stored = await db.get(Payout, payout.payout_id)
        assert stored is not None
        assert stored.status == "PAID"
        assert stored.paid_at is not None
        transfers = list(
            await db.scalars(
                select(SandboxPayoutTransfer).where(
                    SandboxPayoutTransfer.payout_id == payout.payout_id
                )
            )
        )
        assert [(t.amount, t.attempts) for t in transfers] == [(43_195, 1)]
        payable = await db.scalar(
            select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.vendor_id == vendor.id, LedgerEntry.account == "vendor_payable"
            )
        )
        assert payable == 0  # everything owed was paid
    mails = [
        m for m in list_caught(stack.mail_folder) if m.key == f"payout-{payout.payout_id}:statement"
    ]
    assert len(mails) == 1
    assert mails[0].to == vendor.email
    assert "$43.195" in mails[0].text

    # Running again straight after creates nothing for this vendor.
    assert await run_payouts(stack, vendor) == []


async def test_rejected_payout_frees_its_quotes_and_refuses_a_late_approval(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    vendor, _buyer, quotes = await seller_with_sales(stack, [10_000])
    [payout] = await run_payouts(stack, vendor)
    handle = await running_payout(stack, payout)

    decision = await handle.execute_update(
        VendorPayoutWorkflow.reject, RejectPayoutInput(reason="RUT no coincide con la cuenta")
    )
    result = await handle.result()
    await record_history(handle, "rejected")

    assert decision.status == "REJECTED"
    assert result.status == "REJECTED"
    assert result.reason == "RUT no coincide con la cuenta"
    with pytest.raises((RPCError, WorkflowUpdateFailedError)):  # closed, or refused
        await handle.execute_update(VendorPayoutWorkflow.approve, ApprovePayoutInput())
    [again] = await run_payouts(stack, vendor)
    assert again.payout_id != payout.payout_id
    assert again.net == payout.net
    async with transaction(stack.sessions) as db:
        assert [i.payout_id for i in await live_items(db, quotes[0].id)] == [again.payout_id]


async def test_racing_approve_and_reject_only_one_decision_wins(payout_stack: PayoutStack) -> None:
    stack = payout_stack
    vendor, _, _ = await seller_with_sales(stack, [10_000])
    [payout] = await run_payouts(stack, vendor)
    handle = await running_payout(stack, payout)

    outcomes = await asyncio.gather(
        handle.execute_update(VendorPayoutWorkflow.approve, ApprovePayoutInput()),
        handle.execute_update(VendorPayoutWorkflow.reject, RejectPayoutInput(reason="duplicado")),
        return_exceptions=True,
    )

    refused = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
    decided = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(refused) == 1
    assert len(decided) == 1
    result = await handle.result()
    assert result.status == ("PAID" if decided[0].status == "APPROVED" else "REJECTED")
    async with transaction(stack.sessions) as db:
        stored = await db.get(Payout, payout.payout_id)
        assert stored is not None
        assert stored.status == result.status


async def test_a_payout_run_racing_refunds_never_pays_a_peso_too_much(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    totals = [10_000, 20_000, 30_000, 40_000, 50_000, 60_000]
    vendor, buyer, quotes = await seller_with_sales(stack, totals)
    refunded = quotes[::2]

    async def refund_one(quote) -> None:  # type: ignore[no-untyped-def]
        async with transaction(stack.sessions) as db:
            await refund(db, quote)

    first_run, *_ = await asyncio.gather(
        run_payouts(stack, vendor), *(refund_one(q) for q in refunded)
    )
    assert first_run is not None
    paid = [await approve(stack, p) for p in first_run]
    # Whatever the interleaving, a later sale absorbs any clawback and settles the rest.
    async with transaction(stack.sessions) as db:
        await completed_sale(db, vendor, buyer, 200_000)
    for payout in await run_payouts(stack, vendor):
        paid.append(await approve(stack, payout))

    async with transaction(stack.sessions) as db:
        payouts = list(await db.scalars(select(Payout).where(Payout.vendor_id == vendor.id)))
        kept = [t for q, t in zip(quotes, totals, strict=True) if q not in refunded] + [200_000]
        assert sum(p.net for p in payouts if p.status == "PAID") == sum(t - t // 10 for t in kept)
        assert all(r.status == "PAID" for r in paid)
        payable = await db.scalar(
            select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.vendor_id == vendor.id, LedgerEntry.account == "vendor_payable"
            )
        )
        assert payable == 0
