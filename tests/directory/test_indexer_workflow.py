"""IndexProductWorkflow alone (time-skipping server, fake push activity under the real
name): changes during a push cause exactly one more push, a rejected push does not stop
later ones, and a recorded history still replays against today's code."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio import activity
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from marketred.schemas.directory import (
    PRODUCT_CHANGED_SIGNAL,
    PUSH_ACTIVITY,
    IndexProductResult,
    ProductChanged,
    PushProductInput,
    PushProductResult,
    indexer_workflow_id,
)
from marketred.services.directory import indexer as directory_indexer
from marketred.workflows.indexer import IndexProductWorkflow
from tests.support.temporal import unique_task_queue

HISTORY = Path(__file__).resolve().parent.parent / "histories" / "index_product_coalesced.json"


class FakeIndexer:
    def __init__(
        self, client: Client, *, signal_during_first: bool = False, reject_first: bool = False
    ) -> None:
        self.client = client
        self.calls: list[uuid.UUID] = []
        self.signal_during_first = signal_during_first
        self.reject_first = reject_first

    @activity.defn(name=PUSH_ACTIVITY)
    async def push(self, params: PushProductInput) -> PushProductResult:
        self.calls.append(params.product_id)
        if len(self.calls) == 1 and self.signal_during_first:
            handle = self.client.get_workflow_handle(indexer_workflow_id(params.product_id))
            await handle.signal(
                PRODUCT_CHANGED_SIGNAL, ProductChanged(product_id=params.product_id)
            )
        if len(self.calls) == 1 and self.reject_first:
            raise ApplicationError("HTTP 400", type="IndexerRejected", non_retryable=True)
        return PushProductResult(product_id=params.product_id, action="upsert", status_code=200)


async def _run(env: WorkflowEnvironment, fake: FakeIndexer, signals: int) -> IndexProductResult:
    task_queue = unique_task_queue()
    product_id = uuid.uuid4()
    async with Worker(
        env.client, task_queue=task_queue, workflows=[IndexProductWorkflow], activities=[fake.push]
    ):
        for _ in range(signals):
            await directory_indexer.product_changed(env.client, product_id, task_queue=task_queue)
        handle = env.client.get_workflow_handle(indexer_workflow_id(product_id))
        async with env.time_skipping_unlocked():  # type: ignore[attr-defined]
            return IndexProductResult.model_validate(await handle.result())


async def test_change_during_a_push_causes_exactly_one_more_push(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeIndexer(time_skipping_env.client, signal_during_first=True)
    result = await _run(time_skipping_env, fake, signals=3)
    assert (result.pushes, result.changes_seen) == (2, 4)
    assert len(fake.calls) == 2


async def test_rejected_push_does_not_stop_later_pushes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeIndexer(time_skipping_env.client, signal_during_first=True, reject_first=True)
    result = await _run(time_skipping_env, fake, signals=1)
    assert result.pushes == 2
    assert len(fake.calls) == 2


async def test_recorded_history_replays() -> None:
    history = WorkflowHistory.from_json("index-product-recorded", HISTORY.read_text())
    replayer = Replayer(workflows=[IndexProductWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
