"""The done criterion end to end, with the real `marketred` worker and CLI processes on the
Temporal dev server, and the worker killed (SIGKILL) while a transfer is in flight.

Three completed quotes and one refunded quote: `marketred payouts run` creates one payout
listing the three; `marketred payouts approve` starts the transfer; the sandbox provider
records it and then holds (marker file) so the worker can be killed at the worst moment;
a restarted worker retries the step and the idempotency key finds the first transfer:
each quote is paid exactly once, the payout is PAID and the vendor mailed. Running payouts
again creates nothing for that vendor.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.payouts import VendorPayoutResult
from marketred.services.payout_providers import hold_marker
from marketred.settings import Settings
from marketred.store.models import LedgerEntry, Payout, PayoutItem, SandboxPayoutTransfer
from marketred.store.session import create_session_factory, transaction
from tests.payouts.helpers import completed_sale, make_seller, refund
from tests.payouts.processes import cli, start_worker, stop_worker, wait_for, worker_env

pytestmark = pytest.mark.db


async def test_worker_killed_mid_transfer_pays_each_quote_exactly_once(
    settings: Settings,
    engine: AsyncEngine,
    dev_server_env: WorkflowEnvironment,
    mail_catcher: tuple[Path, int],
    tmp_path: Path,
) -> None:
    sessions = create_session_factory(engine)
    async with transaction(sessions) as db:
        vendor, _, buyer = await make_seller(db, commission_bps=1000)
        quotes = [await completed_sale(db, vendor, buyer, t) for t in (12_990, 5_005, 30_000)]
        refunded = await completed_sale(db, vendor, buyer, 9_990)
        await refund(db, refunded)
    mail_folder, smtp_port = mail_catcher
    env = worker_env(settings, dev_server_env, tmp_path, smtp_port)
    marker = hold_marker(settings.model_copy(update={"home": tmp_path}))
    marker.parent.mkdir(parents=True)
    marker.touch()
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        out = await asyncio.to_thread(cli, env, "payouts", "run")
        [line] = [ln.split() for ln in out.splitlines() if f" {vendor.slug} " in ln]
        payout_id = line[0]
        assert line[2:4] == ["3", "item(s)"]
        assert "$43.195" in " ".join(line)

        approved = await asyncio.to_thread(cli, env, "payouts", "approve", payout_id)
        assert "APPROVED" in approved

        async def transfer_recorded() -> bool:
            async with transaction(sessions) as db:
                n = await db.scalar(
                    select(func.count())
                    .select_from(SandboxPayoutTransfer)
                    .where(SandboxPayoutTransfer.payout_id == payout_id)
                )
                return bool(n)

        await wait_for(transfer_recorded)
        os.kill(worker.pid, signal.SIGKILL)  # mid-step: money "sent", step not finished
        worker.wait(30)
        marker.unlink()
        worker = start_worker(env, log)

        async with transaction(sessions) as db:
            payout = await db.get(Payout, payout_id)
            assert payout is not None
            workflow_id = payout.workflow_id
        handle = dev_server_env.client.get_workflow_handle(
            workflow_id, result_type=VendorPayoutResult
        )
        result = await asyncio.wait_for(handle.result(), timeout=120)
        assert result.status == "PAID", log.read_text()

        async with transaction(sessions) as db:
            transfers = list(
                await db.scalars(
                    select(SandboxPayoutTransfer).where(
                        SandboxPayoutTransfer.vendor_id == vendor.id
                    )
                )
            )
            # One transfer, asked for twice: before the kill and by the retry after it.
            assert [(t.amount, t.attempts) for t in transfers] == [(43_195, 2)]
            items = list(
                await db.scalars(select(PayoutItem).where(PayoutItem.payout_id == payout_id))
            )
            assert sorted(i.quote_id for i in items) == sorted(q.id for q in quotes)
            for quote in [*quotes, refunded]:
                times_in_payouts = await db.scalar(
                    select(func.count())
                    .select_from(PayoutItem)
                    .where(PayoutItem.quote_id == quote.id, PayoutItem.kind == "sale")
                )
                assert times_in_payouts == (0 if quote is refunded else 1)
            sent = list(
                await db.scalars(
                    select(LedgerEntry.amount).where(
                        LedgerEntry.vendor_id == vendor.id,
                        LedgerEntry.account == "vendor_payouts",
                    )
                )
            )
            assert sent == [-43_195]
        mails = [m for m in list_caught(mail_folder) if m.key == f"payout-{payout_id}:statement"]
        assert [m.to for m in mails] == [vendor.email]

        again = await asyncio.to_thread(cli, env, "payouts", "run")
        assert f" {vendor.slug} " not in again
    finally:
        stop_worker(worker)
