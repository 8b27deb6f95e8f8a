"""The done criterion end to end, with the real `marketred` worker and CLI processes on the
Temporal dev server, and the worker killed (SIGKILL) while a transfer is in flight.

Three completed quotes and one refunded quote: `marketred payouts run` creates one payout
listing the three; `marketred payouts approve` starts the transfer; the sandbox provider
records it and then holds (marker file) so the worker can be killed at the worst moment.
Nobody can tell whether that transfer went through, so the restarted worker does not ask
the provider again: the payout is HELD, nothing is posted or mailed, and the next run
does not pay its quotes again. The operator checks with the bank and confirms with the
bank's reference (`marketred payouts confirm`): PAID once, posted once, mailed once.
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

from marketred.integrations import temporal
from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.payouts import VendorPayoutResult
from marketred.schemas.search_attributes import PAYOUT_STATUS
from marketred.services.payouts.providers import hold_marker
from marketred.settings import Settings
from marketred.store.models import LedgerEntry, Payout, PayoutItem, SandboxPayoutTransfer
from marketred.store.session import create_session_factory, transaction
from marketred.workflows.payout import VendorPayoutWorkflow
from tests.payouts.helpers import completed_sale, make_seller, refund
from tests.payouts.processes import cli, start_worker, stop_worker, worker_env
from tests.support.polling import eventually

pytestmark = pytest.mark.db


async def test_worker_killed_mid_transfer_holds_the_payout_until_an_operator_confirms(
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

    async def payout_row() -> Payout:
        async with transaction(sessions) as db:
            payout = await db.get(Payout, payout_id)
            assert payout is not None
            return payout

    async def vendor_rows(account: str) -> list[int]:
        async with transaction(sessions) as db:
            rows = await db.scalars(
                select(LedgerEntry.amount).where(
                    LedgerEntry.vendor_id == vendor.id, LedgerEntry.account == account
                )
            )
            return list(rows)

    def statements() -> list[str]:
        key = f"payout-{payout_id}:statement"
        return [m.to for m in list_caught(mail_folder) if m.key == key]

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

        await eventually(transfer_recorded, timeout=60, interval=0.3)
        os.kill(worker.pid, signal.SIGKILL)  # mid-step: money "sent", step not finished
        worker.wait(30)
        marker.unlink()
        worker = start_worker(env, log)

        async def held() -> Payout | None:
            payout = await payout_row()
            return payout if payout.status == "HELD" else None

        payout = await eventually(held, timeout=120, interval=0.3)
        assert payout is not None
        assert payout.hold_code == "transfer_uncertain", log.read_text()
        workflow_id = payout.workflow_id
        # Our own client: the worker encrypts payloads (integrations/payload_codec.py).
        client = await temporal.connect(
            settings, target=dev_server_env.client.service_client.config.target_host
        )
        handle = client.get_workflow_handle(workflow_id, result_type=VendorPayoutResult)
        state = await handle.query(VendorPayoutWorkflow.state)
        assert (state.status, state.hold_code) == ("HELD", "transfer_uncertain")
        described = await handle.describe()
        assert described.typed_search_attributes.get(PAYOUT_STATUS) == "HELD"

        async with transaction(sessions) as db:
            transfers = list(
                await db.scalars(
                    select(SandboxPayoutTransfer).where(
                        SandboxPayoutTransfer.vendor_id == vendor.id
                    )
                )
            )
        # Asked once, before the kill: the restarted worker did not send it again.
        assert [(t.amount, t.attempts) for t in transfers] == [(43_195, 1)]
        assert await vendor_rows("vendor_payouts") == []
        assert statements() == []

        # The quotes stay in the held payout: the next run pays none of them again.
        again = await asyncio.to_thread(cli, env, "payouts", "run")
        assert f" {vendor.slug} " not in again

        confirmed = await asyncio.to_thread(
            cli, env, "payouts", "confirm", payout_id, "--reference", "BCH-778812"
        )
        assert "PAID" in confirmed
        result = await asyncio.wait_for(handle.result(), timeout=120)
        assert (result.status, result.provider_ref) == ("PAID", "BCH-778812"), log.read_text()

        async with transaction(sessions) as db:
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
        assert await vendor_rows("vendor_payouts") == [-43_195]
        assert statements() == [vendor.email]
        # A second confirmation (a double-clicked button, a retried script) changes nothing.
        with pytest.raises(AssertionError, match="not possible now"):
            await asyncio.to_thread(
                cli, env, "payouts", "confirm", payout_id, "--reference", "BCH-778812"
            )
        assert await vendor_rows("vendor_payouts") == [-43_195]
        assert (await payout_row()).status == "PAID"

        after = await asyncio.to_thread(cli, env, "payouts", "run")
        assert f" {vendor.slug} " not in after
    finally:
        stop_worker(worker)
