"""The buyer's payment reminder (patch `payment-reminder`), under the time-skipping server:
sent once, 24 h before the payment window closes (halfway through a short window), never
after the quote was paid, and never twice across continue-as-new or a worker restart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.schemas.payments import PaymentNotified
from marketred.schemas.quotes import (
    AcceptInput,
    ExtendDeadlineInput,
    QuoteOutcome,
    QuoteState,
    RecheckPaymentInput,
    StartPaymentInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker, quote_input, start_quote
from tests.quotes.workflow_helpers import (
    about,
    notify_payment,
    record_history,
    run_lengths,
    ship_and_deliver,
    state_of,
    wait_until,
)
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")

Handle = WorkflowHandle[QuoteWorkflow, QuoteOutcome]


def _at(state: QuoteState, kind: str) -> timedelta:
    """How long after the acceptance the timeline row `kind` was written."""
    at = {e.kind: e.at for e in state.timeline}
    return at[kind] - at["accepted"]


async def _pay(handle: Handle, world: FakeWorld) -> None:
    if not world.payments_created:
        await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    world.verdict = "paid"
    await notify_payment(handle, world)
    await wait_until(handle, lambda s: s.status == "PAID")


async def _ship_and_deliver(handle: Handle) -> QuoteOutcome:
    await ship_and_deliver(handle, "R1")
    return await handle.result()


async def test_the_buyer_is_reminded_24_hours_before_the_window_closes_then_pays(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    accepted = await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    assert accepted.deadlines.pay_by is not None
    due = await state_of(handle)
    # The 72 h window's reminder is due 24 h before it closes (shown in the state).
    assert due.deadlines.remind_at == accepted.deadlines.pay_by - timedelta(hours=24)
    await quote_env.sleep(timedelta(hours=47))
    assert "payment_reminder" not in world.notifications
    await quote_env.sleep(timedelta(hours=1, minutes=1))
    reminded = await wait_until(
        handle, lambda s: any(e.kind == "payment_reminder_sent" for e in s.timeline)
    )
    await wait_until(handle, lambda _: "payment_reminder" in world.notifications)
    assert reminded.deadlines.remind_at is None
    await _pay(handle, world)
    result = await _ship_and_deliver(handle)
    await record_history(handle, "payment_reminder_then_paid")
    state = await state_of(handle)
    assert result.status == "COMPLETED"
    assert about(_at(state, "payment_reminder_sent"), timedelta(hours=48))
    assert world.notifications == [
        "requested",
        "accepted",
        "payment_reminder",
        "paid",
        "shipped",
        "completed",
    ]


async def test_no_reminder_once_the_quote_is_paid(
    quote_env: WorkflowEnvironment, quote_rig: QuoteRig
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await quote_env.sleep(timedelta(hours=30))
    await _pay(handle, world)
    # Past the moment the reminder was due: nothing goes out for a paid quote.
    await quote_env.sleep(timedelta(hours=30))
    paid = await state_of(handle)
    result = await _ship_and_deliver(handle)
    assert result.status == "COMPLETED"
    assert paid.deadlines.remind_at is None
    assert "payment_reminder" not in world.notifications
    assert "payment_reminder_sent" not in world.timeline_kinds


async def test_a_short_window_reminds_halfway_and_a_very_short_one_not_at_all(
    quote_env: WorkflowEnvironment,
) -> None:
    client = quote_env.client
    outcomes: dict[int, tuple[list[str], QuoteState]] = {}
    for hours in (24, 4):
        world, tq = FakeWorld(), unique_task_queue()
        async with fake_worker(client, tq, world):
            handle = await start_quote(client, tq, quote_input())
            await handle.execute_update(
                QuoteWorkflow.accept, AcceptInput(shipping_cost=0, valid_hours=hours)
            )
            result = await handle.result()
            assert result.status == "PAYMENT_EXPIRED"
            outcomes[hours] = (world.notifications, await state_of(handle))
    day_notices, day = outcomes[24]
    assert day_notices.count("payment_reminder") == 1
    assert about(_at(day, "payment_reminder_sent"), timedelta(hours=12))
    short_notices, short = outcomes[4]
    assert "payment_reminder" not in short_notices
    assert "payment_reminder_sent" not in [e.kind for e in short.timeline]


async def test_an_extended_window_moves_the_reminder_with_its_end(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await quote_env.sleep(timedelta(hours=40))
    await handle.execute_update(
        QuoteWorkflow.extend_deadline,
        ExtendDeadlineInput(actor="operator", deadline="pay_by", hours=48, reason="banco"),
    )
    result = await handle.result()
    state = await state_of(handle)
    assert result.status == "PAYMENT_EXPIRED"
    assert world.notifications.count("payment_reminder") == 1
    # 72 h + 48 h: reminded 24 h before the new end, which was 120 h after acceptance.
    assert about(_at(state, "payment_reminder_sent"), timedelta(hours=96))
    assert about(_at(state, "payment_expired"), timedelta(hours=120))


async def test_a_held_payment_is_not_reminded_and_a_reopened_window_counts_anew(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    world.verdict = "mismatch"
    payment_id = world.payment_id
    await handle.signal(
        QuoteWorkflow.payment_notified, PaymentNotified(khipu_payment_id=payment_id)
    )
    held = await wait_until(handle, lambda s: s.hold_reason is not None)
    assert held.deadlines.remind_at is None
    # Held past the moment the reminder was due: the buyer is not asked to pay.
    await quote_env.sleep(timedelta(hours=60))
    assert "payment_reminder" not in world.notifications
    world.verdict = "pending"
    await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    result = await handle.result()
    state = await state_of(handle)
    assert result.status == "PAYMENT_EXPIRED"
    assert world.notifications.count("payment_reminder") == 1
    at = {e.kind: e.at for e in state.timeline}
    # The reopened 72 h window reminds 48 h after the reopening.
    assert about(at["payment_reminder_sent"] - at["payment_released"], timedelta(hours=48))


async def test_one_reminder_across_continue_as_new(quote_env: WorkflowEnvironment) -> None:
    """Runs hand over before and after the reminder: it is sent by exactly one of them."""
    world, tq = FakeWorld(), unique_task_queue()
    client = quote_env.client
    inp = quote_input(poll_seconds=60).model_copy(update={"history_budget": 40})
    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, inp)
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=1_000))
        await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        for _ in range(3):
            await handle.execute_update(
                QuoteWorkflow.extend_deadline,
                ExtendDeadlineInput(actor="operator", deadline="pay_by", hours=1),
            )
        before = len(await run_lengths(client, handle))
        await quote_env.sleep(timedelta(hours=51, minutes=1))
        await wait_until(handle, lambda _: "payment_reminder" in world.notifications)
        for _ in range(3):
            await handle.execute_update(
                QuoteWorkflow.extend_deadline,
                ExtendDeadlineInput(actor="operator", deadline="pay_by", hours=1),
            )
        await _pay(handle, world)
        result = await _ship_and_deliver(handle)
        runs = len(await run_lengths(client, handle))
        state = await state_of(handle)
    assert result.status == "COMPLETED"
    assert before >= 2, "the run did not continue as new before the reminder"
    assert runs > before, "the run did not continue as new after the reminder"
    assert world.notifications.count("payment_reminder") == 1
    assert [e.kind for e in state.timeline].count("payment_reminder_sent") == 1
    # 72 h + 3 h of extensions: 24 h before the end.
    assert about(_at(state, "payment_reminder_sent"), timedelta(hours=51))


def _uncached_worker(client: Client, tq: str, world: FakeWorld) -> Worker:
    """A worker that keeps no workflow in memory: every task replays the whole history,
    like a worker that was just restarted."""
    return Worker(
        client,
        task_queue=tq,
        workflows=[QuoteWorkflow],
        activities=world.activities(),
        max_cached_workflows=0,
    )


async def test_one_reminder_across_worker_restarts(quote_env: WorkflowEnvironment) -> None:
    world, tq = FakeWorld(), unique_task_queue()
    client = quote_env.client
    async with _uncached_worker(client, tq, world):
        handle = await start_quote(client, tq, quote_input())
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
        await wait_until(handle, lambda _: "accepted" in world.notifications)
    async with _uncached_worker(client, tq, world):
        await quote_env.sleep(timedelta(hours=48, minutes=1))
        await wait_until(handle, lambda _: "payment_reminder" in world.notifications)
    async with _uncached_worker(client, tq, world):
        result = await handle.result()
        state = await state_of(handle)
    assert result.status == "PAYMENT_EXPIRED"
    assert world.notifications.count("payment_reminder") == 1
    assert [e.kind for e in state.timeline].count("payment_reminder_sent") == 1
