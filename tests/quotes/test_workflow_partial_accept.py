"""QuoteWorkflow partial acceptance and stock reservations (issue 20), under the
time-skipping server: a vendor lowers a quantity and drops a line (with reasons), the
buyer pays the new total (what Khipu is asked for and what the ledger posts); bad input
is refused naming the field and changes nothing; an acceptance short of stock is refused
naming the line, and a retried reservation never reserves twice."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.payments import PaymentNotified
from marketred.schemas.quotes import (
    QUOTE_INVALID_INPUT,
    AcceptInput,
    CancelInput,
    LinePriceChange,
    QuoteLine,
    QuoteWorkflowInput,
    RejectInput,
    StartPaymentInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker, quote_input, start_quote
from tests.quotes.workflow_helpers import record_history, ship_and_deliver, state_of, wait_until
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")

COFFEE, MUG, FILTER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def three_lines() -> QuoteWorkflowInput:
    """Café ×3 at 8.000, Taza ×2 at 5.000, Filtros ×1 at 2.000 (subtotal 36.000)."""
    inp = quote_input()
    inp.lines = [
        QuoteLine(position=0, variant_id=COFFEE, product_name="Café", variant_label="250 g",
                  sku="CAF-250", quantity=3, original_unit_price=8_000, unit_price=8_000),
        QuoteLine(position=1, variant_id=MUG, product_name="Taza", sku="TAZ-1", quantity=2,
                  original_unit_price=5_000, unit_price=5_000),
        QuoteLine(position=2, variant_id=FILTER, product_name="Filtros", sku="FIL-1",
                  quantity=1, original_unit_price=2_000, unit_price=2_000),
    ]  # fmt: skip
    return inp


PARTIAL = AcceptInput(
    shipping_cost=3_000,
    lines=[
        LinePriceChange(position=0, quantity=2, reason="Solo quedan 2 bolsas"),
        LinePriceChange(position=1, unit_price=4_500),
        LinePriceChange(position=2, quantity=0, reason="Sin filtros hasta marzo"),
    ],
    note="Enviamos lo que tenemos",
    reserve_stock=True,
)


async def test_vendor_accepts_two_of_three_lines_and_the_buyer_pays_the_new_total(
    quote_env: WorkflowEnvironment,
) -> None:
    world, tq = FakeWorld(stock={COFFEE: 5, MUG: 2}), unique_task_queue()  # filters untracked
    client = quote_env.client
    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, three_lines())
        accepted = await handle.execute_update(QuoteWorkflow.accept, PARTIAL)
        by_position = {ln.position: ln for ln in accepted.lines}
        assert (by_position[0].quantity, by_position[0].requested_quantity) == (2, 3)
        assert by_position[0].change_reason == "Solo quedan 2 bolsas"
        assert (by_position[1].quantity, by_position[1].unit_price) == (2, 4_500)
        assert by_position[1].requested_quantity is None
        assert (by_position[2].quantity, by_position[2].requested_quantity) == (0, 1)
        assert by_position[2].change_reason == "Sin filtros hasta marzo"
        # 2 × 8.000 + 2 × 4.500 + 0 + 3.000 shipping
        assert (accepted.subtotal, accepted.total) == (25_000, 28_000)
        # The accepted quantities are reserved (untracked filters are not).
        assert world.reservations[accepted.quote_id] == {COFFEE: 2, MUG: 2}
        assert world.stock == {COFFEE: 3, MUG: 0}
        await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        assert [p.amount for p in world.payments_created] == [28_000]
        world.verdict = "paid"
        await handle.signal(
            QuoteWorkflow.payment_notified,
            PaymentNotified(khipu_payment_id=f"kp-{accepted.quote_id.hex[:8]}"),
        )
        await wait_until(handle, lambda s: s.status == "PAID")
        await ship_and_deliver(handle, "S1")
        result = await handle.result()
        await record_history(handle, "partial_accept_completed")
    assert (result.status, result.total) == ("COMPLETED", 28_000)
    assert [s.quote_id for s in world.sales] == [accepted.quote_id]
    assert world.reserve_calls == 1
    # The projection (which settles the reservation) got the partial lines.
    last = world.projections[-1].state
    assert [ln.quantity for ln in last.lines] == [2, 2, 0]
    assert last.total == 28_000


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (LinePriceChange(position=0, quantity=4, reason="x"), "lines[0].quantity", "at most the 3"),
        (LinePriceChange(position=0, quantity=1), "lines[0].reason", "say why"),
        (LinePriceChange(position=0, quantity=1, reason="   "), "lines[0].reason", "say why"),
    ],
)
async def test_bad_partial_acceptance_is_refused_naming_the_field_and_changes_nothing(
    quote_rig: QuoteRig, change: LinePriceChange, field: str, says: str
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start(three_lines())
    before = await state_of(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            QuoteWorkflow.accept, AcceptInput(shipping_cost=0, lines=[change])
        )
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == QUOTE_INVALID_INPUT
    assert cause.details[0] == field
    assert says in cause.message
    after = await state_of(handle)
    assert (after.status, after.version, after.lines) == (
        "REQUESTED",
        before.version,
        before.lines,
    )
    await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="Sin stock"))
    await handle.result()
    assert world.reserve_calls == 0


async def test_dropping_every_line_is_a_rejection_not_an_acceptance(
    quote_rig: QuoteRig,
) -> None:
    handle = await quote_rig.start(three_lines())
    drop_all = [LinePriceChange(position=p, quantity=0, reason="no") for p in (0, 1, 2)]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            QuoteWorkflow.accept, AcceptInput(shipping_cost=5_000, lines=drop_all)
        )
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.details[0] == "lines"
    assert "reject the quote instead" in cause.message
    assert (await state_of(handle)).status == "REQUESTED"
    await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="Sin stock"))
    await handle.result()


async def test_acceptance_short_of_stock_names_the_line_then_a_lower_quantity_goes_through(
    quote_env: WorkflowEnvironment,
) -> None:
    world, tq = FakeWorld(stock={COFFEE: 1, MUG: 9}), unique_task_queue()
    client = quote_env.client
    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, three_lines())
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                QuoteWorkflow.accept, AcceptInput(shipping_cost=0, reserve_stock=True)
            )
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == QUOTE_INVALID_INPUT
        assert "not enough stock for Café (250 g), SKU CAF-250" in cause.message
        assert "1 available, 3 accepted" in cause.message
        waiting = await state_of(handle)
        assert waiting.status == "REQUESTED"
        assert world.stock == {COFFEE: 1, MUG: 9}  # nothing reserved
        accepted = await handle.execute_update(
            QuoteWorkflow.accept,
            AcceptInput(
                shipping_cost=0,
                lines=[LinePriceChange(position=0, quantity=1, reason="Queda 1")],
                reserve_stock=True,
            ),
        )
        assert accepted.status == "ACCEPTED"
        assert world.stock == {COFFEE: 0, MUG: 7}
        result = await handle.result()  # nobody pays: the window closes
        await record_history(handle, "stock_reserved_payment_expired")
    assert result.status == "PAYMENT_EXPIRED"
    assert world.statuses[-1] == "PAYMENT_EXPIRED"  # the projection gives the stock back


async def test_a_cancel_while_the_stock_is_being_reserved_gives_it_back(
    quote_env: WorkflowEnvironment,
) -> None:
    """The buyer cancels while the acceptance's reservation is in flight: the quote is
    cancelled, the acceptance is refused, and the reservation is released at once."""
    gate = asyncio.Event()
    world, tq = FakeWorld(stock={COFFEE: 5}, reserve_gate=gate), unique_task_queue()
    client = quote_env.client
    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, three_lines())
        accepting = asyncio.create_task(
            handle.execute_update(
                QuoteWorkflow.accept, AcceptInput(shipping_cost=0, reserve_stock=True)
            )
        )
        for _ in range(400):
            if world.reserve_calls:
                break
            await asyncio.sleep(0.05)
        assert world.reserve_calls == 1
        # A second acceptance or a reject waits for the first's outcome.
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="no"))
        cancelled = await handle.execute_update(
            QuoteWorkflow.cancel, CancelInput(actor="buyer", reason="ya no")
        )
        assert cancelled.status == "CANCELLED"
        gate.set()
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await accepting
        assert "no longer awaiting the vendor" in str(refused.value.cause)
        result = await handle.result()
        await record_history(handle, "cancelled_while_reserving_stock")
    assert result.status == "CANCELLED"
    assert world.reserve_calls == 2
    assert world.reservations[cancelled.quote_id] == {}
    assert world.stock == {COFFEE: 5}
