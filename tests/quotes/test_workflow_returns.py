"""Returns and partial refunds after delivery (issue 13), under the time-skipping server:
a return approved in part, declined and decided by an operator (both ways), an operator's
partial refunds up to what was paid, a partial refund Khipu refuses (held, then recorded),
and the window closing. Each refund is asked of Khipu and posted to the ledger once, under
its own refund id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import (
    QUOTE_INVALID_INPUT,
    DecideReturnInput,
    OperatorRefundInput,
    RecordRefundInput,
    RequestReturnInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import QuoteRig
from tests.quotes.workflow_helpers import (
    complete,
    record_history,
    state_of,
)
from tests.support.polling import eventually

pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")

TOTAL = 22_500 + 3_990


def _refused_for(exc: pytest.ExceptionInfo[WorkflowUpdateFailedError], field: str) -> bool:
    cause = exc.value.cause
    return (
        isinstance(cause, ApplicationError)
        and cause.type == QUOTE_INVALID_INPUT
        and list(cause.details) == [field]
    )


async def test_a_return_approved_in_part_refunds_that_amount_once(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await complete(handle, world)
    asked = await handle.execute_update(
        QuoteWorkflow.request_return, RequestReturnInput(reason="Una caja llegó rota")
    )
    assert asked.status == "RETURN_REQUESTED"
    await eventually(lambda: "return_requested" in world.notifications, timeout=20, interval=0.05)
    with pytest.raises(WorkflowUpdateFailedError) as too_much:
        await handle.execute_update(
            QuoteWorkflow.decide_return,
            DecideReturnInput(actor="vendor", approve=True, amount=TOTAL + 1),
        )
    assert _refused_for(too_much, "amount")
    done = await handle.execute_update(
        QuoteWorkflow.decide_return,
        DecideReturnInput(actor="vendor", approve=True, amount=2_500, note="Devolvemos la caja"),
    )
    # One return per quote.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(QuoteWorkflow.request_return, RequestReturnInput(reason="otra"))
    result = await handle.result()
    await record_history(handle, "return_approved_partially")
    assert (done.status, done.refunded_amount) == ("COMPLETED", 2_500)
    assert result.status == "COMPLETED"
    assert [(r.amount, r.refund_id is not None) for r in world.refunds] == [(2_500, True)]
    assert [(r.amount, r.refund_id) for r in world.ledger_refunds] == [
        (2_500, world.refunds[0].refund_id)
    ]
    assert len(world.sales) == 1


async def test_a_declined_return_is_disputed_and_an_operator_decides_it(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await complete(handle, world)
    await handle.execute_update(
        QuoteWorkflow.request_return, RequestReturnInput(reason="No es lo que pedí")
    )
    disputed = await handle.execute_update(
        QuoteWorkflow.decide_return,
        DecideReturnInput(actor="vendor", approve=False, note="Se envió lo cotizado"),
    )
    assert disputed.status == "RETURN_DISPUTED"
    await eventually(lambda: "return_disputed" in world.notifications, timeout=20, interval=0.05)
    # The vendor has had its say; the operator decides: everything left, back.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            QuoteWorkflow.decide_return, DecideReturnInput(actor="vendor", approve=True)
        )
    decided = await handle.execute_update(
        QuoteWorkflow.decide_return,
        DecideReturnInput(actor="operator", approve=True, note="Fotos del comprador"),
    )
    result = await handle.result()
    await record_history(handle, "return_disputed_refunded")
    assert (decided.status, decided.refunded_amount) == ("REFUNDED", TOTAL)
    assert result.status == "REFUNDED"
    assert [r.amount for r in world.ledger_refunds] == [TOTAL]


async def test_a_return_declined_by_the_vendor_and_closed_by_an_operator_refunds_nothing(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await complete(handle, world)
    await handle.execute_update(
        QuoteWorkflow.request_return, RequestReturnInput(reason="Ya no lo necesito")
    )
    await handle.execute_update(
        QuoteWorkflow.decide_return, DecideReturnInput(actor="vendor", approve=False)
    )
    closed = await handle.execute_update(
        QuoteWorkflow.decide_return,
        DecideReturnInput(actor="operator", approve=False, note="Fuera de política"),
    )
    result = await handle.result()
    assert closed.status == "COMPLETED"
    assert result.status == "COMPLETED"
    assert world.refunds == []
    assert world.ledger_refunds == []


async def test_operator_refunds_parts_up_to_what_was_paid_and_the_window_closes(
    quote_env: WorkflowEnvironment,
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    await complete(handle, world)
    first = await handle.execute_update(
        QuoteWorkflow.refund,
        OperatorRefundInput(amount=3_990, reason="Despacho cobrado de más"),
    )
    assert (first.status, first.refunded_amount) == ("COMPLETED", 3_990)
    with pytest.raises(WorkflowUpdateFailedError) as over:
        await handle.execute_update(
            QuoteWorkflow.refund, OperatorRefundInput(amount=TOTAL, reason="todo")
        )
    assert _refused_for(over, "amount")
    # Khipu refuses this one: held, then recorded as a bank transfer, posted once.
    world.refund_refusal = "Khipu refused the refund: El pago ya fue rendido"
    held = await handle.execute_update(
        QuoteWorkflow.refund, OperatorRefundInput(amount=1_000, reason="Compensación")
    )
    assert held.status == "REFUND_HELD"
    assert held.held_refund is not None
    assert held.held_refund.amount == 1_000
    recorded = await handle.execute_update(
        QuoteWorkflow.record_refund, RecordRefundInput(reference="TRF-55", amount=1_000)
    )
    assert (recorded.status, recorded.refunded_amount) == ("COMPLETED", 4_990)
    # After the window the workflow ends: nobody can ask for a return any more.
    await quote_env.sleep(timedelta(days=10, minutes=1))
    result = await handle.result()
    await record_history(handle, "operator_partial_refunds")
    with pytest.raises(RPCError, match="not found"):
        await handle.execute_update(
            QuoteWorkflow.request_return, RequestReturnInput(reason="tarde")
        )
    state = await state_of(handle)
    assert result.status == "COMPLETED"
    assert [r.amount for r in world.refunds] == [3_990]
    assert [(r.amount, r.refund_id) for r in world.ledger_refunds] == [
        (3_990, world.refunds[0].refund_id),
        (1_000, held.held_refund.refund_id),
    ]
    assert state.deadlines.return_by is None
