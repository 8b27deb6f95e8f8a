"""Quote test fixtures: `quote_rig`, fake activities on a worker of the test's own task
queue, to start quotes on (on `quote_env`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker
from tests.support.temporal import unique_task_queue


@pytest.fixture
async def quote_rig(quote_env: WorkflowEnvironment) -> AsyncIterator[QuoteRig]:
    rig = QuoteRig(quote_env, FakeWorld(), unique_task_queue())
    async with fake_worker(rig.client, rig.task_queue, rig.world):
        yield rig
