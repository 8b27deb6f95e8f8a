"""Quote test fixtures: the shared time-skipping server with our search attributes, and
`quote_rig`: fake activities on a worker of the test's own task queue, to start quotes on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from marketred.integrations.temporal import search_attribute_types
from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker
from tests.support.temporal import unique_task_queue


@pytest.fixture(scope="session")
async def quote_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    # The test server cannot list attributes, but it can add them (once per session).
    try:
        await time_skipping_env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=time_skipping_env.client.namespace,
                search_attributes=search_attribute_types(),
            )
        )
    except RPCError as exc:
        if "already" not in str(exc).lower():
            raise
    return time_skipping_env


@pytest.fixture
async def quote_rig(quote_env: WorkflowEnvironment) -> AsyncIterator[QuoteRig]:
    rig = QuoteRig(quote_env, FakeWorld(), unique_task_queue())
    async with fake_worker(rig.client, rig.task_queue, rig.world):
        yield rig
