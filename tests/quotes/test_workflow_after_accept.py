"""QuoteWorkflow from acceptance on, under the time-skipping server: happy path, one
Khipu payment per quote, payment expiry, ship-by breach, auto-confirm, operator refund,
a held payment (and an operator's recheck of it), and a payment that arrives after the
quote ended."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import (
    AcceptInput,
    CancelInput,
    LinePriceChange,
    MarkShippedInput,
    RecheckPaymentInput,
    StartPaymentInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import QuoteRig
from tests.quotes.workflow_helpers import (
    about,
    accept_and_hold,
    accept_and_pay,
    cancel_while_paying,
    notify_payment,
    record_history,
    ship_and_deliver,
    state_of,
    wait_until,
)
from tests.support.journey import COMPLETED_TIMELINE
from tests.support.polling import eventually

# A workflow that completes while an update handler still runs is a bug, not a warning.
pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")


async def test_happy_path_accept_pay_ship_deliver_completes_and_posts_the_sale(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    accepted = await handle.execute_update(
        QuoteWorkflow.accept,
        AcceptInput(
            shipping_cost=3_990,
            lines=[LinePriceChange(position=0, unit_price=9_000)],
            note="Despacho el lunes",
        ),
    )
    assert (accepted.subtotal, accepted.shipping_cost, accepted.total) == (
        20_500,
        3_990,
        24_490,
    )
    first = await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    again = await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    assert first == again
    assert len(world.payments_created) == 1
    assert world.payments_created[0].amount == 24_490
    world.verdict = "paid"
    await notify_payment(handle, world)
    paid = await wait_until(handle, lambda s: s.status == "PAID")
    assert paid.waiting_for == "the vendor to ship"
    assert paid.deadlines.ship_by is not None
    await ship_and_deliver(handle, "ST123")
    result = await handle.result()
    await record_history(handle, "completed")
    state = await state_of(handle)
    assert result.status == "COMPLETED"
    assert result.total == 24_490
    assert [e.kind for e in state.timeline] == COMPLETED_TIMELINE
    assert [s.quote_id for s in world.sales] == [state.quote_id]
    assert world.notifications == ["requested", "accepted", "paid", "shipped", "completed"]
    # (An accept landing in the workflow's first task may fold REQUESTED into it.)
    assert world.statuses[-5:] == ["ACCEPTED", "PAID", "SHIPPED", "DELIVERED", "COMPLETED"]


async def test_a_transition_is_one_activity_and_mail_the_server_refused_follows_in_order(
    quote_rig: QuoteRig,
) -> None:
    """Each transition projects and mails with one `publish_quote`; a mail it could not
    send goes out once by `send_quote_notification`, before the next transition's mail."""
    world = quote_rig.world
    world.publish_mail_failures = 1
    handle = await quote_rig.start()
    for _ in range(400):  # the refused "requested" mail goes out on its own first
        if world.notifications:
            break
        await asyncio.sleep(0.05)
    await accept_and_pay(handle, world)
    await ship_and_deliver(handle, "ST1")
    assert (await handle.result()).status == "COMPLETED"
    history = await handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert world.notifications == ["requested", "accepted", "paid", "shipped", "completed"]
    assert world.mail_paths[0] == "on its own"  # the refused one, sent once
    assert world.mail_paths[1:] == ["with the projection"] * 4
    assert "project_quote" not in scheduled
    assert scheduled.count("send_quote_notification") == 1
    # requested, accepted, payment_started, paid, shipped, delivered, completed
    assert scheduled.count("publish_quote") == 7


async def test_payment_found_by_polling_when_the_webhook_is_lost(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start(poll_seconds=60)
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    world.verdict = "paid"
    await quote_env.sleep(timedelta(seconds=90))
    state = await wait_until(handle, lambda s: s.status == "PAID")
    assert world.checks >= 1
    await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="operator", reason="prueba")
    )
    await handle.result()
    assert state.status == "PAID"


async def test_unpaid_quote_expires_at_the_end_of_the_window_and_deletes_the_payment(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=1_000))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    result = await handle.result()
    await record_history(handle, "payment_expired")
    state = await state_of(handle)
    assert result.status == "PAYMENT_EXPIRED"
    assert world.deleted == [world.payment_id]
    at = {e.kind: e.at for e in state.timeline}
    assert about(at["payment_expired"] - at["accepted"], timedelta(hours=72))
    assert "payment_expired" in world.notifications
    assert world.refunds == []


async def test_ship_by_breach_alerts_and_lets_the_buyer_cancel_with_refund(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_pay(handle, world)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))
    await quote_env.sleep(timedelta(days=5, minutes=1))
    overdue = await wait_until(handle, lambda s: s.ship_overdue)
    assert "overdue" in (overdue.waiting_for or "")
    state = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="buyer", reason="No llegó")
    )
    result = await handle.result()
    await record_history(handle, "ship_overdue_refund")
    assert state.status == "REFUNDED"
    assert result.status == "REFUNDED"
    assert "ship_overdue" in world.notifications
    assert [r.amount for r in world.refunds] == [22_500 + 3_990]
    assert [r.amount for r in world.ledger_refunds] == [26_490]


async def test_delivery_is_confirmed_automatically_after_ten_days(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_pay(handle, world)
    await handle.execute_update(
        QuoteWorkflow.mark_shipped, MarkShippedInput(carrier="Chilexpress", tracking="CX9")
    )
    result = await handle.result()
    await record_history(handle, "auto_confirmed")
    state = await state_of(handle)
    assert result.status == "COMPLETED"
    delivered = next(e for e in state.timeline if e.kind == "delivered")
    shipped = next(e for e in state.timeline if e.kind == "shipped")
    assert delivered.actor == "system"
    assert about(delivered.at - shipped.at, timedelta(days=10))
    assert len(world.sales) == 1


async def test_operator_cancels_a_shipped_quote_and_the_buyer_is_refunded(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_pay(handle, world)
    await handle.execute_update(
        QuoteWorkflow.mark_shipped, MarkShippedInput(carrier="Starken", tracking="ST1")
    )
    state = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="operator", reason="Producto dañado")
    )
    result = await handle.result()
    await record_history(handle, "operator_refund")
    assert state.status == "REFUNDED"
    assert state.refunded_amount == 26_490
    assert result.status == "REFUNDED"
    assert [e.kind for e in state.timeline][-2:] == ["cancelling", "refunded"]
    assert world.sales == []
    assert "refunded" in world.notifications


async def test_mismatched_payment_is_held_for_an_operator(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_hold(handle, world)
    held = await state_of(handle)
    assert held.hold_reason == "amount differs"
    assert held.status == "ACCEPTED"
    assert "operator" in (held.waiting_for or "")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    # Held quotes do not expire on their own.
    await quote_env.sleep(timedelta(days=5))
    assert (await state_of(handle)).status == "ACCEPTED"
    state = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="operator", reason="monto distinto")
    )
    await handle.result()
    assert state.status == "REFUNDED"
    assert state.hold_reason is None  # the hold ended with the quote; the timeline keeps it
    assert "payment_held" in [e.kind for e in state.timeline]
    assert "payment_held" in world.notifications


async def test_operator_recheck_keeps_a_held_payment_held_until_khipu_confirms_it(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    # Nothing is held yet: a recheck is refused and changes nothing.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    await accept_and_hold(handle, world)
    checks_before = world.checks

    world.verdict = "rejected"
    still = await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    assert world.checks == checks_before + 1
    assert still.status == "ACCEPTED"
    assert still.hold_reason == "Khipu reports the payment as rejected"
    assert still.timeline[-1].kind == "payment_recheck"
    assert still.timeline[-1].actor == "operator"

    world.verdict = "paid"
    paid = await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    assert paid.status == "PAID"
    assert paid.hold_reason is None
    assert [e.kind for e in paid.timeline][-2:] == ["payment_released", "paid"]
    assert paid.deadlines.ship_by is not None
    # Released once: a second recheck is refused.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())

    await ship_and_deliver(handle, "S1")
    result = await handle.result()
    await record_history(handle, "payment_recheck_released")
    assert result.status == "COMPLETED"
    assert len(world.sales) == 1
    assert world.notifications.count("paid") == 1
    assert world.refunds == []


async def test_recheck_finding_the_payment_in_progress_reopens_the_payment_window(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_hold(handle, world)
    world.verdict = "pending"
    reopened = await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    assert reopened.status == "ACCEPTED"
    assert reopened.hold_reason is None
    assert "buyer to pay" in (reopened.waiting_for or "")
    released_at = reopened.timeline[-1].at
    assert reopened.timeline[-1].kind == "payment_released"
    assert reopened.deadlines.pay_by is not None
    assert about(reopened.deadlines.pay_by - released_at, timedelta(hours=72))
    # The window runs again: unpaid, it expires and the payment is deleted.
    result = await handle.result()
    state = await state_of(handle)
    assert result.status == "PAYMENT_EXPIRED"
    assert world.deleted == [world.payment_id]
    expired_at = next(e.at for e in state.timeline if e.kind == "payment_expired")
    assert about(expired_at - released_at, timedelta(hours=72))


async def test_a_second_recheck_while_one_asks_khipu_is_refused_and_the_sale_counts_once(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_hold(handle, world)
    world.verdict, world.check_gate = "paid", asyncio.Event()
    first = asyncio.create_task(
        handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    )
    asked = world.checks + 1  # the first one is asking Khipu
    await eventually(lambda: world.checks >= asked, timeout=10)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    assert "being checked already" in str(refused.value.cause)
    world.check_gate.set()
    assert (await first).status == "PAID"
    await ship_and_deliver(handle, "S2")
    result = await handle.result()
    state = await state_of(handle)
    assert result.status == "COMPLETED"
    assert [e.kind for e in state.timeline].count("paid") == 1
    assert world.notifications.count("paid") == 1
    assert len(world.sales) == 1
    assert world.refunds == []


async def test_a_cancel_while_a_recheck_asks_khipu_refunds_once_and_the_recheck_stands_down(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_hold(handle, world)  # a mismatch: money may have arrived
    world.verdict, world.check_gate = "paid", asyncio.Event()
    recheck = asyncio.create_task(
        handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    )
    asked = world.checks + 1
    await eventually(lambda: world.checks >= asked, timeout=10)
    cancelled = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="operator", reason="monto distinto")
    )
    assert cancelled.status == "REFUNDED"
    world.check_gate.set()  # Khipu now answers "paid": too late, the quote has ended
    assert (await recheck).status == "REFUNDED"
    result = await handle.result()
    state = await state_of(handle)
    assert result.status == "REFUNDED"
    assert [r.amount for r in world.refunds] == [22_500]
    assert "paid" not in [e.kind for e in state.timeline]
    assert "paid" not in world.notifications
    assert world.sales == []


async def test_a_recheck_whose_khipu_read_fails_is_retried_and_pays_once(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_hold(handle, world)
    before = world.checks
    world.verdict, world.check_failures = "paid", 2
    state = await handle.execute_update(QuoteWorkflow.recheck_payment, RecheckPaymentInput())
    assert world.checks == before + 3  # two failed reads, then the answer
    assert state.status == "PAID"
    # Run to the end (terminating with mail still in flight would leave the time-skipping
    # server waiting on that activity for the next test).
    await ship_and_deliver(handle, "S3")
    result = await handle.result()
    state = await state_of(handle)
    assert result.status == "COMPLETED"
    assert [e.kind for e in state.timeline].count("paid") == 1
    assert world.notifications.count("paid") == 1
    assert len(world.sales) == 1


async def test_payment_confirmed_after_the_buyer_cancelled_is_refunded(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await cancel_while_paying(handle)
    # The Khipu payment is deleted in the background (the buyer's request does not
    # wait for Khipu), then the late-payment watch reads it.
    await wait_until(
        handle,
        lambda s: (
            s.waiting_for is None and world.deleted == [world.payment_id] and world.checks >= 1
        ),
    )
    world.verdict = "paid"
    await notify_payment(handle, world)
    result = await handle.result()
    await record_history(handle, "late_payment_refund")
    state = await state_of(handle)
    assert result.status == "CANCELLED"
    assert state.refunded_amount == 22_500
    assert [r.amount for r in world.refunds] == [22_500]
    assert state.timeline[-1].kind == "late_payment_refunded"
    assert world.ledger_refunds == []
