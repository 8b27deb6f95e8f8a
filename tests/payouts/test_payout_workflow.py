"""Payout workflows on the Temporal dev server with the real activities and database:
approval, rejection, racing decisions, a run racing refunds, and running twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.payouts import (
    ApprovePayoutInput,
    RejectPayoutInput,
)
from marketred.store.models import LedgerEntry, Payout, SandboxPayoutTransfer
from marketred.store.session import transaction
from marketred.workflows.payout import VendorPayoutWorkflow
from tests.payouts.helpers import completed_sale, live_items, refund
from tests.payouts.workflow_support import (
    approve,
    record_history,
    run_payouts,
    running_payout,
    seller_with_sales,
)
from tests.support.payouts import PayoutStack

pytestmark = pytest.mark.db


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
    finished = await running_payout(stack, payout, finished=True)
    await record_history(finished, "approved")  # recorded by the first design; kept
    await record_history(finished, "provider_confirmed")  # the same path today

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
