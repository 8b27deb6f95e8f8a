"""The payout schedule created at worker start-up.

Temporal's time-skipping test server does not implement schedules (CreateSchedule is
"unimplemented" there), so these run on the dev server: the configured spec is checked
through the server's own next action times, and a seconds-long spec proves the schedule
really starts a payout run that our worker completes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import ScheduleActionExecutionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.payouts import PayoutRunResult
from marketred.services.payouts.commands import SCHEDULE_ID, ensure_payout_schedule
from marketred.settings import Settings
from marketred.store.session import transaction
from tests.payouts.helpers import completed_sale, make_seller
from tests.payouts.processes import start_worker, stop_worker, worker_env
from tests.support.payouts import payout_worker
from tests.support.polling import eventually

pytestmark = pytest.mark.db

SANTIAGO = ZoneInfo("America/Santiago")


async def test_default_schedule_is_mondays_at_nine_in_santiago_and_follows_settings(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    client = dev_server_env.client
    schedule_id = f"payouts-{uuid.uuid4()}"
    handle = await ensure_payout_schedule(client, settings, schedule_id)
    try:
        upcoming = (await handle.describe()).info.next_action_times
        assert len(upcoming) >= 3
        for at in upcoming:
            local = at.astimezone(SANTIAGO)
            assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
            assert at > datetime.now(UTC)

        # A changed setting updates the existing schedule at the next start-up.
        changed = settings.model_copy(update={"payout_cron": "30 10 * * 3"})
        again = await ensure_payout_schedule(client, changed, schedule_id)
        upcoming = (await again.describe()).info.next_action_times
        for at in upcoming:
            local = at.astimezone(SANTIAGO)
            assert (local.weekday(), local.hour, local.minute) == (2, 10, 30)
    finally:
        await handle.delete()


async def test_the_schedule_fires_a_payout_run_that_creates_the_payouts(
    dev_server_env: WorkflowEnvironment,
    settings: Settings,
    engine: AsyncEngine,
    mail_catcher: tuple[Path, int],
    tmp_path: Path,
) -> None:
    client = dev_server_env.client
    _, port = mail_catcher
    async with payout_worker(client, settings, engine, port, tmp_path) as stack:
        async with transaction(stack.sessions) as db:
            vendor, _, buyer = await make_seller(db)
            await completed_sale(db, vendor, buyer, 25_000)
        every_two_seconds = stack.settings.model_copy(update={"payout_cron": "@every 2s"})
        handle = await ensure_payout_schedule(client, every_two_seconds, f"payouts-{uuid.uuid4()}")
        try:
            for _ in range(100):
                if (await handle.describe()).info.recent_actions:
                    break
                await asyncio.sleep(0.2)
            await handle.pause()
            actions = (await handle.describe()).info.recent_actions
            assert actions, "the schedule never fired"
        finally:
            await handle.delete()
        # Every firing is a run; across them the vendor's quote is in one payout only.
        mine = []
        for fired in actions:
            action = fired.action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            run = await client.get_workflow_handle(
                action.workflow_id, result_type=PayoutRunResult
            ).result()
            mine += [p for p in run.payouts if p.vendor_id == vendor.id]
        assert [(p.items, p.net, p.status) for p in mine] == [(1, 22_500, "PENDING_APPROVAL")]


async def test_a_paused_schedule_stays_paused_when_the_worker_restarts(
    dev_server_env: WorkflowEnvironment,
    settings: Settings,
    mail_catcher: tuple[Path, int],
    tmp_path: Path,
) -> None:
    """Operators pause the weekly run (a bank holiday, an incident) in the Temporal UI;
    a worker restart, which brings the schedule to the configured spec, must not resume
    it nor drop their note, while a changed cron still takes effect."""
    client = dev_server_env.client
    _, port = mail_catcher
    env = worker_env(settings, dev_server_env, tmp_path, port, MARKETRED_LOG_LEVEL="INFO")
    log = tmp_path / "worker.log"
    handle = client.get_schedule_handle(SCHEDULE_ID)

    async def started(times: int) -> bool:
        return log.exists() and log.read_text().count("worker started") >= times

    worker = start_worker(env, log)
    try:
        await eventually(lambda: started(1), timeout=60, interval=0.3)
        await handle.pause(note="feriado bancario: pagar el martes")
        stop_worker(worker)

        changed = {**env, "MARKETRED_PAYOUT_CRON": "30 10 * * 2"}
        worker = start_worker(changed, log)
        await eventually(lambda: started(2), timeout=60, interval=0.3)

        described = await handle.describe()
        assert described.schedule.state.paused, log.read_text()
        assert described.schedule.state.note == "feriado bancario: pagar el martes"
        for at in described.info.next_action_times:
            local = at.astimezone(SANTIAGO)
            assert (local.weekday(), local.hour, local.minute) == (1, 10, 30)
    finally:
        stop_worker(worker)
        await handle.delete()
