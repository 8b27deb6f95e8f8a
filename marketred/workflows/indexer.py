"""IndexProductWorkflow: one per product (`index-product-<uuid>`), started or signalled by
`services.directory.indexer.product_changed` with signal-with-start.

Each change signal marks the product dirty. The workflow waits a short debounce window
(so a burst of edits becomes one push), clears the mark and runs the push activity, which
reads the product's current state and sends it; the activity retries with backoff for as
long as the indexer is down. Changes that arrive during a push mark it dirty again and
cause one more push afterwards, so the indexer always ends with the last state and pushes
of one product are strictly sequential. With nothing left to do the workflow lingers a
while for further changes, then completes; a later change starts a new run.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas.directory import (
        PRODUCT_CHANGED_SIGNAL,
        PUSH_ACTIVITY,
        IndexProductInput,
        IndexProductResult,
        ProductChanged,
        PushProductInput,
        PushProductResult,
    )

PUSH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,  # unlimited: an indexer down for hours still gets the push
    non_retryable_error_types=["IndexerRejected"],
)


@workflow.defn(name="IndexProductWorkflow")
class IndexProductWorkflow:
    def __init__(self) -> None:
        self._dirty = False
        self._changes = 0

    @workflow.signal(name=PRODUCT_CHANGED_SIGNAL)
    def product_changed(self, change: ProductChanged) -> None:
        del change  # the activity reads the current state; the signal only says "dirty"
        self._dirty = True
        self._changes += 1

    @workflow.query(name="pending")
    def pending(self) -> bool:
        return self._dirty

    @workflow.run
    async def run(self, params: IndexProductInput) -> IndexProductResult:
        pushes = 0
        while True:
            try:
                await workflow.wait_condition(lambda: self._dirty, timeout=params.linger)
            except TimeoutError:
                break
            await workflow.sleep(params.debounce)
            self._dirty = False
            await self._push(params)
            pushes += 1
            if pushes >= params.pushes_before_continue_as_new and not self._dirty:
                workflow.continue_as_new(params)
        return IndexProductResult(
            product_id=params.product_id, pushes=pushes, changes_seen=self._changes
        )

    async def _push(self, params: IndexProductInput) -> None:
        try:
            result = await workflow.execute_activity(
                PUSH_ACTIVITY,
                PushProductInput(product_id=params.product_id),
                result_type=PushProductResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PUSH_RETRY,
            )
        except ActivityError as exc:
            # Only a rejected push (4xx) ends up here; keep serving later changes.
            workflow.logger.warning("indexer rejected product %s: %s", params.product_id, exc)
            return
        workflow.logger.info(
            "indexer %s of %s answered %s", result.action, result.product_id, result.status_code
        )
