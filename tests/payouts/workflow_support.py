"""Driving payout workflows in tests: runs, decisions, recording histories."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from marketred.schemas.payouts import (
    ApprovePayoutInput,
    PayoutRunInput,
    PayoutRunResult,
    PayoutSummary,
    VendorPayoutResult,
)
from marketred.store.models import Payout, Vendor
from marketred.store.session import transaction
from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow
from tests.payouts.helpers import completed_sale, make_seller
from tests.support.payouts import PayoutStack, run_id
from tests.support.polling import eventually

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Write a finished workflow's history to tests/histories/payout_<name>.json when asked
    (MARKETRED_RECORD_HISTORIES=1); test_payout_replay.py replays it from then on."""
    if os.environ.get("MARKETRED_RECORD_HISTORIES") != "1":
        return
    target = HISTORIES / f"payout_{name}.json"
    if target.exists():  # the corpus only grows: a recorded history is never replaced
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    # The workflow id goes with the events: the run derives its payouts' ids from it.
    recorded = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
    target.write_text(json.dumps(recorded, indent=1))


async def run_payouts(
    stack: PayoutStack, vendor: Vendor, record: str | None = None, transfer_attempts: int = 10
) -> list[PayoutSummary]:
    handle = await stack.client.start_workflow(
        PayoutWorkflow.run,
        PayoutRunInput(trigger="manual", transfer_attempts=transfer_attempts),
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


async def payout_status(stack: PayoutStack, payout_id: uuid.UUID) -> Payout:
    async with transaction(stack.sessions) as db:
        payout = await db.get(Payout, payout_id)
        assert payout is not None
        return payout


async def wait_for_status(
    stack: PayoutStack, payout_id: uuid.UUID, status: str, timeout: float = 60
) -> Payout:
    """The payout row once it reaches `status` (the workflow moves on its own)."""
    payout: Payout = await eventually(
        lambda: payout_status(stack, payout_id),
        lambda p: p.status == status,
        timeout=timeout,
        interval=0.2,
    )
    return payout
