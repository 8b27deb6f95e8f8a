"""Refund outcomes are states (issue 13), under the time-skipping server: a refund Khipu
refuses or nobody can confirm holds the quote (REFUND_HELD, workflow open, operators
mailed); an operator retries it at Khipu or records one made outside Khipu, and the
ledger posts it exactly once under the refund id fixed when it was held."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import (
    QUOTE_INVALID_INPUT,
    CancelInput,
    RecordRefundInput,
    RetryRefundInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import QuoteRig
from tests.quotes.workflow_helpers import (
    accept_and_pay,
    cancel_while_paying,
    notify_payment,
    record_history,
    state_of,
    wait_until,
)
from tests.support.polling import eventually

pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")

RENDIDO = "Khipu refused the refund: El pago ya fue rendido; no se puede reembolsar"
TOTAL = 22_500 + 3_990


async def test_refused_refund_is_held_then_an_operator_retry_refunds_and_posts_once(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_pay(handle, world)
    world.refund_refusal = RENDIDO
    held = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="operator", reason="Sin stock")
    )
    assert held.status == "REFUND_HELD"
    assert held.hold_reason is not None
    assert "ya fue rendido" in held.hold_reason
    assert held.held_refund is not None
    assert held.held_refund.amount == TOTAL
    await eventually(lambda: "refund_held" in world.notifications, timeout=20)
    # The workflow stays open (the operator's updates below reach it).
    assert world.ledger_refunds == []
    # Nothing else fits now: no second cancel.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="operator"))

    # Khipu still refuses: still held, with the reason; the mail goes out again.
    still = await handle.execute_update(QuoteWorkflow.retry_refund, RetryRefundInput())
    assert still.status == "REFUND_HELD"
    await eventually(lambda: world.notifications.count("refund_held") == 2, timeout=20)

    world.refund_refusal = None
    done = await handle.execute_update(
        QuoteWorkflow.retry_refund, RetryRefundInput(), id="retry-from-the-console"
    )
    # The same request again (same update id) is the same answer, not a second refund.
    again = await handle.execute_update(
        QuoteWorkflow.retry_refund, RetryRefundInput(), id="retry-from-the-console"
    )
    result = await handle.result()
    await record_history(handle, "refund_held_retried")
    assert again.status == "REFUNDED"
    assert done.status == "REFUNDED"
    assert result.status == "REFUNDED"
    assert done.refunded_amount == TOTAL
    assert done.held_refund is None
    assert [r.amount for r in world.refunds] == [TOTAL]
    assert len(world.ledger_refunds) == 1
    posted = world.ledger_refunds[0]
    assert (posted.amount, posted.refund_id) == (TOTAL, held.held_refund.refund_id)
    assert [e.kind for e in done.timeline][-4:] == [
        "refund_held",
        "refund_retry_failed",
        "refund_held",
        "refunded",
    ]


async def test_a_refund_made_outside_khipu_is_recorded_once_with_its_reference(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_pay(handle, world)
    world.refund_refusal = RENDIDO
    # The ship-by cancel: 5+ days after payment, which is exactly when Khipu has
    # settled ("rendido") the payment and refuses.
    await quote_env.sleep(timedelta(days=5, minutes=1))
    await wait_until(handle, lambda s: s.ship_overdue)
    held = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="buyer", reason="No llegó")
    )
    assert held.status == "REFUND_HELD"

    with pytest.raises(WorkflowUpdateFailedError) as wrong:
        await handle.execute_update(
            QuoteWorkflow.record_refund, RecordRefundInput(reference="TRF-1", amount=1_000)
        )
    assert isinstance(wrong.value.cause, ApplicationError)
    assert wrong.value.cause.type == QUOTE_INVALID_INPUT
    # The "refunded" mail held back keeps the run open for the repeated record.
    gate = world.mail_gate = asyncio.Event()
    world.publish_mail_failures = 1
    done = await handle.execute_update(
        QuoteWorkflow.record_refund, RecordRefundInput(reference="TRF-778899", amount=TOTAL)
    )
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            QuoteWorkflow.record_refund, RecordRefundInput(reference="TRF-778899", amount=TOTAL)
        )
    gate.set()
    result = await handle.result()
    await record_history(handle, "refund_held_recorded")
    assert result.status == "REFUNDED"
    assert world.refunds == []  # Khipu never refunded: the operator did
    assert [(r.amount, r.refund_id) for r in world.ledger_refunds] == [
        (TOTAL, held.held_refund.refund_id if held.held_refund else None)
    ]
    last = done.timeline[-1]
    assert (last.kind, last.actor, last.data["reference"]) == ("refunded", "operator", "TRF-778899")


async def test_a_refund_nobody_can_confirm_is_held_after_the_retries(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await accept_and_pay(handle, world)
    world.refund_failures = 10_000
    cancel = await handle.start_update(
        QuoteWorkflow.cancel,
        CancelInput(actor="operator", reason="Duplicada"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    # The rounds of retries are 30 s, 1, 5 and 15 min apart.
    for _ in range(24):  # two hours of workflow time at most
        if (await state_of(handle)).status == "REFUND_HELD":
            break
        await quote_env.sleep(timedelta(minutes=5))
    held = await cancel.result()
    assert held.status == "REFUND_HELD"
    assert world.refunds == []
    assert held.hold_reason is not None
    assert "did not answer" in held.hold_reason
    world.refund_failures = 0
    done = await handle.execute_update(QuoteWorkflow.retry_refund, RetryRefundInput())
    await handle.result()
    assert done.status == "REFUNDED"
    assert len(world.refunds) == 1
    assert len(world.ledger_refunds) == 1


async def test_a_late_payment_whose_refund_is_refused_is_held_not_failed(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await cancel_while_paying(handle)
    await wait_until(handle, lambda s: s.waiting_for is None and world.checks >= 1)
    world.verdict = "paid"
    world.refund_refusal = RENDIDO
    await notify_payment(handle, world)
    held = await wait_until(handle, lambda s: s.status == "REFUND_HELD")
    assert held.held_refund is not None
    assert held.held_refund.amount == 22_500
    world.refund_refusal = None
    await handle.execute_update(QuoteWorkflow.retry_refund, RetryRefundInput())
    result = await handle.result()
    await record_history(handle, "late_payment_refund_held")
    state = await state_of(handle)
    # Back to how it ended, with the money returned; the ledger never saw this money.
    assert result.status == "CANCELLED"
    assert state.refunded_amount == 22_500
    assert state.timeline[-1].kind == "late_payment_refunded"
    assert [r.amount for r in world.refunds] == [22_500]
    assert world.ledger_refunds == []
