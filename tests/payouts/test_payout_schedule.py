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
from marketred.services.payout_commands import ensure_payout_schedule
from marketred.settings import Settings
from marketred.store.session import transaction
from tests.payouts.conftest import payout_worker
from tests.payouts.helpers import completed_sale, make_seller

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
