"""Quotes that live for weeks stay within Temporal's limits (time-skipping server, at the
production cadence: MARKETRED_KHIPU_POLL_SECONDS=60).

Khipu is polled by an activity that retries while the payment is pending, so polls and
outages add no history; a run continues as new past its history budget, carrying the
whole state; a request-path update gives up on Khipu after a bound (503 NO_ANSWER).
Figures printed here are in docs/quotes.md."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from marketred.schemas import temporal_contracts as contracts
from marketred.schemas.payments import PaymentNotified
from marketred.schemas.quotes import (
    AcceptInput,
    CancelInput,
    ExtendDeadlineInput,
    RecheckPaymentInput,
    StartPaymentInput,
)
from marketred.services.errors import Unavailable
from marketred.services.quotes import commands as quotes_commands
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker, quote_input, start_quote
from tests.quotes.workflow_helpers import (
    record_history,
    run_lengths,
    ship_and_deliver,
    state_of,
    wait_until,
)
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")

TEMPORAL_WARNS_AT = 10_240
# The figures (events, Khipu reads): pytest --log-cli-level=INFO shows them.
log = logging.getLogger(__name__)


async def _extend(handle: WorkflowHandle[Any, Any], hours: int) -> None:
    await handle.execute_update(
        QuoteWorkflow.extend_deadline,
        ExtendDeadlineInput(actor="operator", deadline="pay_by", hours=hours, reason="banco"),
    )


async def test_a_thirty_day_window_with_extensions_and_a_recheck_stays_small(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    client = quote_rig.client
    handle = await quote_rig.start(poll_seconds=60)
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0, valid_hours=720))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    await quote_env.sleep(timedelta(days=10))
    await _extend(handle, 48)
    await quote_env.sleep(timedelta(days=12))
    await _extend(handle, 48)
    await quote_env.sleep(timedelta(days=5))
    # Khipu now reports a wrong amount: the quote is held; an operator rechecks once
    # Khipu shows the payment in progress again, which reopens a 72 h window.
    world.verdict = "mismatch"
    payment_id = world.payment_id
    await handle.signal(
        QuoteWorkflow.payment_notified, PaymentNotified(khipu_payment_id=payment_id)
    )
    await wait_until(handle, lambda s: s.hold_reason is not None)
    world.verdict = "pending"
    reopened = await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    assert reopened.hold_reason is None
    result = await handle.result()
    state = await state_of(handle)
    lengths = await run_lengths(client, handle)
    assert result.status == "PAYMENT_EXPIRED"
    assert [e.kind for e in state.timeline].count("deadline_extended") == 2
    assert world.deleted == [payment_id]
    assert all(n < TEMPORAL_WARNS_AT for n in lengths)
    # Reads: about one per 30 minutes in the payment's first day, one per 3 h after.
    assert world.checks < 600
    log.info(f"30-day window: runs {lengths} events, {world.checks} Khipu reads")


async def test_an_abandoned_checkout_at_the_production_cadence(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    client = quote_rig.client
    handle = await quote_rig.start(poll_seconds=60)
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    result = await handle.result()
    lengths = await run_lengths(client, handle)
    await record_history(handle, "abandoned_checkout_polled")
    assert result.status == "PAYMENT_EXPIRED"
    assert len(lengths) == 1
    assert lengths[0] < 200
    log.info(f"abandoned 72 h checkout: {lengths[0]} events, {world.checks} Khipu reads")


async def test_a_day_long_khipu_outage_adds_a_handful_of_events(
    quote_env: WorkflowEnvironment,
) -> None:
    async def paid_on_day_three(world: FakeWorld, outage: bool) -> int:
        tq = unique_task_queue()
        client = quote_env.client
        async with fake_worker(client, tq, world):
            handle = await start_quote(client, tq, quote_input(poll_seconds=60))
            await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
            await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
            await quote_env.sleep(timedelta(hours=12))
            world.khipu_down = outage
            await quote_env.sleep(timedelta(days=1))
            world.khipu_down = False
            await quote_env.sleep(timedelta(hours=12))
            world.verdict = "paid"
            # No webhook: the poll (every 3 h by now) finds the payment.
            await quote_env.sleep(timedelta(hours=4))
            await wait_until(handle, lambda s: s.status == "PAID", timeout=120)
            await ship_and_deliver(handle, "S1")
            outcome = await handle.result()
            assert outcome.status == "COMPLETED"
            return sum(await run_lengths(client, handle))

    calm, stormy = FakeWorld(), FakeWorld()
    baseline = await paid_on_day_three(calm, outage=False)
    with_outage = await paid_on_day_three(stormy, outage=True)
    assert stormy.failed_reads > 0
    assert with_outage - baseline <= 6
    log.info(f"1-day Khipu outage: {baseline} → {with_outage} events")


async def test_a_run_past_its_history_budget_continues_as_new_with_its_whole_state(
    quote_env: WorkflowEnvironment,
) -> None:
    world, tq = FakeWorld(), unique_task_queue()
    client = quote_env.client
    inp = quote_input(poll_seconds=60).model_copy(update={"history_budget": 40})
    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, inp)
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=1_000))
        started = await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        await _extend(handle, 24)
        before = await handle.execute_update(
            QuoteWorkflow.extend_deadline,
            ExtendDeadlineInput(actor="operator", deadline="pay_by", hours=24),
        )
        # Past 40 events the run hands over to a new one (same workflow id).
        await wait_until(
            handle,
            lambda s: s.status == "ACCEPTED" and s.deadlines.pay_by == before.deadlines.pay_by,
        )
        world.verdict = "paid"
        payment_id = world.payment_id
        await handle.signal(
            QuoteWorkflow.payment_notified, PaymentNotified(khipu_payment_id=payment_id)
        )
        await wait_until(handle, lambda s: s.status == "PAID", timeout=120)
        after = await state_of(handle)
        await ship_and_deliver(handle, "S1")
        result = await handle.result()
        lengths = await run_lengths(client, handle)
    assert len(lengths) >= 2
    assert result.status == "COMPLETED"
    # The deadline, timeline and payment link survived each continue-as-new.
    assert before.deadlines.pay_by is not None
    assert after.payment_url == started.payment_url
    assert [e.kind for e in after.timeline][: len(before.timeline)] == [
        e.kind for e in before.timeline
    ]
    assert len(world.payments_created) == 1
    assert len(world.sales) == 1
    assert world.notifications.count("paid") == 1


async def test_paying_while_khipu_is_down_answers_no_answer_and_changes_nothing(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    client = quote_rig.client
    inp = quote_input(poll_seconds=60)
    handle = await quote_rig.start(inp)
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    world.khipu_down = True
    # The service the API calls: a bounded wait, then 503 NO_ANSWER (not a hang). Its
    # session is read only for a quote whose workflow Temporal does not know yet.
    with pytest.raises(Unavailable) as refused:
        await quotes_commands._update(
            cast(AsyncSession, None),
            client,
            handle.id,
            contracts.START_PAYMENT,
            StartPaymentInput(),
            quote_id=inp.quote_id,
        )
    assert refused.value.code == "NO_ANSWER"
    assert world.failed_reads >= 1
    state = await state_of(handle)
    assert state.status == "ACCEPTED"
    assert state.payment_url is None
    # Khipu is back: the buyer tries again and gets the one payment.
    world.khipu_down = False
    started = await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    assert started.payment_url.startswith("https://khipu.test/")
    assert len(world.payments_created) == 1
    await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="operator", reason="prueba")
    )
    assert (await handle.result()).status == "CANCELLED"
