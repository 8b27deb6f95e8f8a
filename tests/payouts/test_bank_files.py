"""Payouts through the bank file (the production provider): each approved payout of a
run becomes one line of the run's nómina, stored in PostgreSQL; operators download it,
upload it to the bank, then confirm each transfer with the bank's reference (PAID) or
mark it not executed (FAILED, quotes back to the next run)."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.payouts import (
    ApprovePayoutInput,
    ConfirmTransferInput,
    PayoutRunInput,
    PayoutRunResult,
    PayoutSummary,
    ReleaseTransferInput,
)
from marketred.services.payouts import bank_files as payout_bank_files
from marketred.store.models import LedgerEntry, PayoutBankFileLine, Vendor
from marketred.store.session import transaction
from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow
from tests.payouts.helpers import completed_sale, give_bank_account, live_items, make_seller
from tests.payouts.workflow_support import record_history, running_payout, wait_for_status
from tests.support.payouts import PayoutStack, run_id

pytestmark = pytest.mark.db


@pytest.fixture
def payout_overrides() -> dict[str, object]:
    return {"payout_provider": "bank_file"}


async def _run(stack: PayoutStack, vendors: list[Vendor]) -> tuple[str, list[PayoutSummary]]:
    handle = await stack.client.start_workflow(
        PayoutWorkflow.run,
        PayoutRunInput(trigger="manual"),
        id=run_id(),
        task_queue=stack.settings.temporal_task_queue,
    )
    result: PayoutRunResult = await handle.result()
    ids = [v.id for v in vendors]
    mine = sorted(
        (p for p in result.payouts if p.vendor_id in ids), key=lambda p: ids.index(p.vendor_id)
    )
    return handle.id, mine


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8")), delimiter=";"))


async def test_a_run_becomes_one_bank_file_that_operators_download_then_confirm(
    payout_stack: PayoutStack,
) -> None:
    stack = payout_stack
    async with transaction(stack.sessions) as db:
        cafe, cafe_staff, buyer = await make_seller(db)
        await give_bank_account(db, cafe, cafe_staff, holder_name="Café Ñandú SpA")
        await completed_sale(db, cafe, buyer, 40_000)
        lana, _, _ = await make_seller(db)
        await completed_sale(db, lana, buyer, 10_000)
        late, _, _ = await make_seller(db)
        await completed_sale(db, late, buyer, 5_000)
    run, (p_cafe, p_lana, p_late) = await _run(stack, [cafe, lana, late])

    # The vendor changes its account after the payout was made: this payout keeps the
    # account it was made with.
    async with transaction(stack.sessions) as db:
        await give_bank_account(db, cafe, cafe_staff, bank_code="001", account_number="99-1234-5")
    handles = {p.payout_id: await running_payout(stack, p) for p in (p_cafe, p_lana, p_late)}
    for p in (p_cafe, p_lana):
        await handles[p.payout_id].execute_update(
            VendorPayoutWorkflow.approve, ApprovePayoutInput()
        )
        await wait_for_status(stack, p.payout_id, "SUBMITTED")
    assert (await handles[p_cafe.payout_id].query(VendorPayoutWorkflow.state)).status == (
        "SUBMITTED"
    )

    async with transaction(stack.sessions) as db:
        [first] = [f for f in await payout_bank_files.list_files(db) if f.run_workflow_id == run]
        assert (first.seq, first.lines, first.total, first.closed_at) == (1, 2, 45_000, None)
        name, body = await payout_bank_files.download(db, first.id, None)
    assert name.endswith("-1.csv")
    assert b"\r\n" in body
    assert not body.startswith(b"\xef\xbb\xbf")
    header, *lines = _rows(body)
    assert header == list(payout_bank_files.HEADER)
    by_rut = {line[0]: line for line in lines}
    assert (
        by_rut[cafe.rut]
        == [
            cafe.rut,
            "Cafe Nandu SpA",  # plain ASCII: bank uploads refuse accents
            "012",
            "BancoEstado",
            "Cuenta Corriente",
            "00012345678",  # the account when the payout was made, digits only
            "36000",
            f"MarketRed pago {str(p_cafe.payout_id)[:8]}",
            cafe.email,
        ]
    )
    assert by_rut[lana.rut][6] == "9000"

    # The file is closed: the same bytes every time, and a payout approved now goes to
    # the run's next file instead of one that may be at the bank already.
    async with transaction(stack.sessions) as db:
        assert (await payout_bank_files.download(db, first.id, None))[1] == body
    await handles[p_late.payout_id].execute_update(
        VendorPayoutWorkflow.approve, ApprovePayoutInput()
    )
    await wait_for_status(stack, p_late.payout_id, "SUBMITTED")
    async with transaction(stack.sessions) as db:
        files = [f for f in await payout_bank_files.list_files(db) if f.run_workflow_id == run]
        assert sorted((f.seq, f.lines, f.total) for f in files) == [(1, 2, 45_000), (2, 1, 4_500)]

    # The bank executed the café's transfer and bounced the other one.
    cafe_handle = handles[p_cafe.payout_id]
    paid = await cafe_handle.execute_update(
        VendorPayoutWorkflow.confirm_transfer,
        ConfirmTransferInput(reference="BE-2026-000123"),
    )
    assert paid.status == "PAID"
    assert (await cafe_handle.result()).provider_ref == "BE-2026-000123"
    await record_history(cafe_handle, "submitted_confirmed")
    lana_handle = handles[p_lana.payout_id]
    failed = await lana_handle.execute_update(
        VendorPayoutWorkflow.release_transfer,
        ReleaseTransferInput(reason="cuenta cerrada según el banco"),
    )
    assert failed.status == "FAILED"
    await lana_handle.result()
    await record_history(lana_handle, "submitted_released")

    async with transaction(stack.sessions) as db:
        sent = await db.scalars(
            select(LedgerEntry.amount).where(
                LedgerEntry.account == "vendor_payouts",
                LedgerEntry.vendor_id.in_([cafe.id, lana.id]),
            )
        )
        assert list(sent) == [-36_000]
        line = await db.scalar(
            select(PayoutBankFileLine).where(PayoutBankFileLine.payout_id == p_lana.payout_id)
        )
        assert line is not None
        assert line.voided_at is not None
        lana_quotes = await db.scalars(
            select(LedgerEntry.quote_id).where(
                LedgerEntry.vendor_id == lana.id, LedgerEntry.account == "vendor_payable"
            )
        )
        for quote_id in lana_quotes:
            assert quote_id is not None
            assert await live_items(db, quote_id) == []  # back to the next run
    mails = [m.to for m in list_caught(stack.mail_folder) if str(p_cafe.payout_id) in (m.key or "")]
    assert mails == [cafe.email]
    _, again = await _run(stack, [lana])
    assert [(p.items, p.net) for p in again] == [(1, 9_000)]


async def test_adding_a_payout_to_its_bank_file_is_idempotent_across_workers(
    engine: AsyncEngine,
) -> None:
    """Replicas retrying the same transfer step at once: one line, one file; different
    payouts of one run at once: the same file."""
    from marketred.services.payouts import steps as payouts
    from marketred.store.session import create_session_factory

    sessions = create_session_factory(engine)
    run = f"payout-run-test-{uuid.uuid4()}"
    made = []
    async with transaction(sessions) as db:
        for total in (10_000, 20_000, 30_000):
            vendor, _, buyer = await make_seller(db)
            await completed_sale(db, vendor, buyer, total)
            summary = await payouts.create_vendor_payout(db, vendor.id, f"{run}-{total}", run)
            assert summary is not None
            made.append(summary)

    async def add(payout: PayoutSummary) -> uuid.UUID:
        async with transaction(sessions) as db:
            bank_file = await payout_bank_files.add_line(db, payout.payout_id, run, payout.net)
            return bank_file.id

    files = await asyncio.gather(*(add(p) for p in made for _ in range(3)))
    assert len(set(files)) == 1
    async with transaction(sessions) as db:
        lines = await db.scalar(
            select(func.count())
            .select_from(PayoutBankFileLine)
            .where(PayoutBankFileLine.bank_file_id == files[0])
        )
        assert lines == 3
