"""Transfers nobody can confirm, on the Temporal dev server with the real activities and
database: retries that run out, a provider that answers "maybe", a vendor without a
bank account. Each ends HELD with its quotes kept (no later run pays them), visible to
operators, and resolved by a person exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.payouts import (
    ApprovePayoutInput,
    ConfirmTransferInput,
    ReleaseTransferInput,
)
from marketred.schemas.search_attributes import PAYOUT_STATUS
from marketred.services.payouts import commands as payout_commands
from marketred.services.payouts.providers import sandbox_marker
from marketred.store.models import LedgerEntry, SandboxPayoutTransfer, Vendor
from marketred.store.session import transaction
from marketred.workflows.payout import VendorPayoutWorkflow
from tests.payouts.helpers import completed_sale, give_bank_account, live_items, make_seller
from tests.payouts.workflow_support import (
    approve,
    record_history,
    run_payouts,
    running_payout,
    seller_with_sales,
    wait_for_status,
)
from tests.support.payouts import PayoutStack

pytestmark = pytest.mark.db


def _marker(stack: PayoutStack, name: str) -> Path:
    marker = sandbox_marker(stack.settings, name)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return marker


async def _transfers(stack: PayoutStack, vendor: Vendor) -> list[tuple[int, int]]:
    async with transaction(stack.sessions) as db:
        rows = await db.scalars(
            select(SandboxPayoutTransfer).where(SandboxPayoutTransfer.vendor_id == vendor.id)
        )
        return [(t.amount, t.attempts) for t in rows]


async def _paid_out(stack: PayoutStack, vendor: Vendor) -> list[int]:
    async with transaction(stack.sessions) as db:
        rows = await db.scalars(
            select(LedgerEntry.amount).where(
                LedgerEntry.vendor_id == vendor.id, LedgerEntry.account == "vendor_payouts"
            )
        )
        return list(rows)


def _client(stack: PayoutStack) -> Callable[[], Awaitable[Client]]:
    async def get() -> Client:
        return stack.client

    return get


def _statements(stack: PayoutStack, payout_id: object) -> list[str]:
    return [
        m.to for m in list_caught(stack.mail_folder) if m.key == f"payout-{payout_id}:statement"
    ]


async def test_a_transfer_whose_retries_run_out_is_held_until_an_operator_releases_it(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    vendor, _buyer, quotes = await seller_with_sales(stack, [25_000, 15_000])
    unreachable = _marker(stack, "payout-unreachable")
    [payout] = await run_payouts(stack, vendor, transfer_attempts=2)
    handle = await running_payout(stack, payout)
    await handle.execute_update(VendorPayoutWorkflow.approve, ApprovePayoutInput())

    held = await wait_for_status(stack, payout.payout_id, "HELD", timeout=90)
    assert held.hold_code == "transfer_failed"
    assert "check with the bank" in (held.reason or "")
    state = await handle.query(VendorPayoutWorkflow.state)
    assert (state.status, state.hold_code) == ("HELD", "transfer_failed")
    described = await handle.describe()
    assert described.typed_search_attributes.get(PAYOUT_STATUS) == "HELD"
    assert await _transfers(stack, vendor) == []  # the bank was never reached
    # Held, not released: the next run pays none of its quotes again.
    assert await run_payouts(stack, vendor) == []
    async with transaction(stack.sessions) as db:
        for quote in quotes:
            assert [i.payout_id for i in await live_items(db, quote.id)] == [payout.payout_id]

    unreachable.unlink()
    released = await handle.execute_update(
        VendorPayoutWorkflow.release_transfer,
        ReleaseTransferInput(reason="el banco confirma que no llegó"),
    )
    assert released.status == "FAILED"
    result = await handle.result()
    assert (result.status, result.reason) == ("FAILED", "el banco confirma que no llegó")
    await record_history(handle, "held_released")

    # Released by a person who checked: the next run pays those quotes, once.
    [again] = await run_payouts(stack, vendor)
    assert (again.items, again.net) == (2, 36_000)
    assert (await approve(stack, again)).status == "PAID"
    assert await _transfers(stack, vendor) == [(36_000, 1)]
    assert await _paid_out(stack, vendor) == [-36_000]


async def test_a_provider_maybe_is_held_and_a_double_confirmation_pays_once(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    vendor, _buyer, _quotes = await seller_with_sales(stack, [50_000])
    maybe = _marker(stack, "payout-maybe")
    [payout] = await run_payouts(stack, vendor)
    handle = await running_payout(stack, payout)
    await handle.execute_update(VendorPayoutWorkflow.approve, ApprovePayoutInput())
    held = await wait_for_status(stack, payout.payout_id, "HELD")
    maybe.unlink()
    assert held.hold_code == "transfer_uncertain"
    assert await _transfers(stack, vendor) == [(45_000, 1)]
    assert await _paid_out(stack, vendor) == []

    # A double-clicked confirmation (one request id, sent twice) and a second operator
    # confirming too: the payout is paid, posted and mailed once.
    confirm = ConfirmTransferInput(reference="SANT-0099812")
    first, repeat = await asyncio.gather(
        handle.execute_update(VendorPayoutWorkflow.confirm_transfer, confirm, id="confirm-a"),
        handle.execute_update(VendorPayoutWorkflow.confirm_transfer, confirm, id="confirm-a"),
    )
    assert first.status == repeat.status == "PAID"
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # refused, or closed
        await handle.execute_update(VendorPayoutWorkflow.confirm_transfer, confirm, id="confirm-b")
    result = await handle.result()
    assert (result.status, result.provider_ref) == ("PAID", "SANT-0099812")
    await record_history(handle, "held_confirmed")
    assert await _paid_out(stack, vendor) == [-45_000]
    assert _statements(stack, payout.payout_id) == [vendor.email]
    stored = await wait_for_status(stack, payout.payout_id, "PAID")
    assert stored.provider_ref == "SANT-0099812"


async def test_a_vendor_without_a_bank_account_waits_held_and_is_paid_once_it_adds_one(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    async with transaction(stack.sessions) as db:
        vendor, staff, buyer = await make_seller(db, bank_account=False)
        await completed_sale(db, vendor, buyer, 20_000)
    [payout] = await run_payouts(stack, vendor)
    handle = await running_payout(stack, payout)
    await handle.execute_update(VendorPayoutWorkflow.approve, ApprovePayoutInput())

    held = await wait_for_status(stack, payout.payout_id, "HELD")
    assert held.hold_code == "missing_bank_details"
    assert "bank account" in (held.reason or "")
    # Nothing was sent, so there is nothing to confirm.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            VendorPayoutWorkflow.confirm_transfer, ConfirmTransferInput(reference="x")
        )

    async with transaction(stack.sessions) as db:
        await give_bank_account(db, vendor, staff, bank_code="037", account_number="7012345")
    async with transaction(stack.sessions) as db:
        nudged = await payout_commands.nudge_payouts_waiting_for_bank_details(
            _client(stack), db, vendor.id
        )
    assert nudged == 1
    result = await handle.result()
    assert result.status == "PAID"
    await record_history(handle, "missing_bank_details_then_paid")
    paid = await wait_for_status(stack, payout.payout_id, "PAID")
    assert (paid.bank_code, paid.bank_account_number) == ("037", "7012345")
    assert paid.hold_code is None
    assert await _transfers(stack, vendor) == [(18_000, 1)]
    async with transaction(stack.sessions) as db:
        posted = await db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.payout_id == payout.payout_id)
        )
        assert posted == 2
