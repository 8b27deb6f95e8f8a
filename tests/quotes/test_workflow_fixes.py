"""QuoteWorkflow fixes under the time-skipping server: a second start_payment caller no
longer waits forever when the first one's Khipu payment could not be created, and a
vendor cannot accept a quote whose total would be $0 (Khipu takes no such payment)."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import (
    QUOTE_INVALID_INPUT,
    AcceptInput,
    CancelInput,
    LinePriceChange,
    StartPaymentInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker, quote_input, start_quote
from tests.quotes.workflow_helpers import state_of, wait_until
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")


async def test_both_payment_callers_fail_when_khipu_refuses_and_the_quote_still_ends(
    quote_env: WorkflowEnvironment,
) -> None:
    world, tq = FakeWorld(), unique_task_queue()
    world.create_gate = asyncio.Event()
    world.create_refusal = "Khipu refused the payment: receiver disabled"
    client = quote_env.client
    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, quote_input())
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=3_990))
        first = asyncio.create_task(
            handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        )
        # The second caller arrives while the first one's creation is in flight.
        await wait_until(handle, lambda s: s.status == "ACCEPTED")
        await asyncio.sleep(0.2)
        second = asyncio.create_task(
            handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        )
        await asyncio.sleep(0.2)
        world.create_gate.set()
        results = await asyncio.wait_for(
            asyncio.gather(first, second, return_exceptions=True), timeout=30
        )
        assert all(isinstance(r, WorkflowUpdateFailedError) for r in results), results
        assert world.payments_created == []

        # Nothing is left hanging: the buyer can try again later, or cancel, and the
        # workflow finishes (all handlers done).
        assert (await state_of(handle)).status == "ACCEPTED"
        await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))
        outcome = await asyncio.wait_for(handle.result(), timeout=30)
        assert outcome.status == "CANCELLED"


async def test_a_quote_cannot_be_accepted_with_a_total_of_zero(
    quote_rig: QuoteRig,
) -> None:
    handle = await quote_rig.start()
    free = [
        LinePriceChange(position=0, unit_price=0),
        LinePriceChange(position=1, unit_price=0),
    ]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0, lines=free))
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == QUOTE_INVALID_INPUT
    assert "more than $0" in cause.message
    assert (await state_of(handle)).status == "REQUESTED"

    # Free items with a shipping cost are a total the buyer can pay.
    accepted = await handle.execute_update(
        QuoteWorkflow.accept, AcceptInput(shipping_cost=2_000, lines=free)
    )
    assert (accepted.status, accepted.total) == ("ACCEPTED", 2_000)
    await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))
    await handle.result()
