"""QuoteWorkflow before payment, under the time-skipping server: reject, expire with a
reminder, buyer cancel, deadline extension, validators, a racing accept and cancel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import (
    AcceptInput,
    CancelInput,
    ExtendDeadlineInput,
    LinePriceChange,
    QuoteOutcome,
    QuoteState,
    RejectInput,
)
from marketred.services.quotes.progress import quote_progress
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, QuoteRig, fake_worker, quote_input, start_quote
from tests.quotes.workflow_helpers import about, record_history, state_of, wait_until
from tests.support.temporal import unique_task_queue

# A workflow that completes while an update handler still runs is a bug, not a warning.
pytestmark = pytest.mark.filterwarnings("error:.*unfinished.*handler:RuntimeWarning")


async def test_vendor_rejects_with_a_reason_the_buyer_is_told(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    state = await handle.execute_update(
        QuoteWorkflow.reject, RejectInput(reason="Sin stock hasta marzo")
    )
    assert state.status == "REJECTED"
    assert state.reason == "Sin stock hasta marzo"
    result = await handle.result()
    await record_history(handle, "rejected")
    assert result == QuoteOutcome(status="REJECTED", total=22_500)
    assert world.notifications == ["requested", "rejected"]
    # (A reject landing in the workflow's first task may fold REQUESTED into it.)
    assert world.statuses[-1] == "REJECTED"
    assert world.timeline_kinds == ["requested", "rejected"]


async def test_unanswered_quote_is_reminded_then_expires_at_the_deadline(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    handle = await quote_rig.start()
    result = await handle.result()
    await record_history(handle, "expired")
    state = await state_of(handle)
    assert result.status == "EXPIRED"
    assert world.notifications == ["requested", "reminder", "expired"]
    kinds = {e.kind: e.at for e in state.timeline}
    assert list(kinds) == ["requested", "reminder_sent", "expired"]
    assert about(kinds["reminder_sent"] - kinds["requested"], timedelta(hours=36))
    assert about(kinds["expired"] - kinds["requested"], timedelta(hours=48))
    assert state.waiting_for is None


async def test_per_vendor_response_window_is_honoured(
    quote_rig: QuoteRig,
) -> None:
    handle = await quote_rig.start(response_hours=6)
    await handle.result()
    state = await state_of(handle)
    at = {e.kind: e.at for e in state.timeline}
    assert about(at["expired"] - at["requested"], timedelta(hours=6))
    # A 6 h window with a 12 h reminder lead has no room for a reminder.
    assert "reminder_sent" not in at


async def test_buyer_cancels_while_requested_and_cannot_cancel_twice(
    quote_rig: QuoteRig,
) -> None:
    world = quote_rig.world
    # The mail held back keeps the cancelled quote's run open for the second cancel.
    gate = world.mail_gate = asyncio.Event()
    world.publish_mail_failures = 1
    handle = await quote_rig.start()
    state = await handle.execute_update(
        QuoteWorkflow.cancel, CancelInput(actor="buyer", reason="Lo compré en otra parte")
    )
    assert state.status == "CANCELLED"
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))
    assert "only before paying" in str(refused.value.cause)
    gate.set()
    result = await handle.result()
    await record_history(handle, "buyer_cancel")
    assert result.status == "CANCELLED"
    assert world.notifications == ["requested", "cancelled"]


async def test_accept_after_the_quote_left_requested_is_refused_with_the_reason(
    quote_rig: QuoteRig,
) -> None:
    # The mail held back keeps the rejected quote's run open for the late accept.
    gate = quote_rig.world.mail_gate = asyncio.Event()
    quote_rig.world.publish_mail_failures = 1
    handle = await quote_rig.start()
    await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="No"))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    assert "the quote is no longer awaiting the vendor" in str(refused.value.cause)
    gate.set()
    await handle.result()


async def test_accept_with_unknown_line_is_refused(quote_rig: QuoteRig) -> None:
    handle = await quote_rig.start()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            QuoteWorkflow.accept,
            AcceptInput(shipping_cost=0, lines=[LinePriceChange(position=7, unit_price=1)]),
        )
    assert "position" in str(refused.value.cause)
    assert (await state_of(handle)).status == "REQUESTED"
    await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="No"))
    await handle.result()


async def test_accept_racing_cancel_exactly_one_wins(
    quote_env: WorkflowEnvironment,
) -> None:
    world, tq = FakeWorld(), unique_task_queue()
    client = quote_env.client
    async with fake_worker(client, tq, world):
        for _ in range(3):
            handle = await start_quote(client, tq, quote_input())
            outcomes = await asyncio.gather(
                handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=3_990)),
                handle.execute_update(
                    QuoteWorkflow.cancel, CancelInput(actor="buyer", expected_status="REQUESTED")
                ),
                return_exceptions=True,
            )
            wins = [o for o in outcomes if not isinstance(o, BaseException)]
            losses = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
            final = await state_of(handle)
            if final.status == "ACCEPTED":
                await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))
            await handle.result()
            assert len(wins) == 1, outcomes
            assert len(losses) == 1, outcomes
            assert final.status in ("ACCEPTED", "CANCELLED")
            assert [e.kind for e in final.timeline].count("accepted") + [
                e.kind for e in final.timeline
            ].count("cancelled") == 1


async def test_vendor_extends_its_answer_time_once_and_operator_any_pending_deadline(
    quote_rig: QuoteRig,
) -> None:
    handle = await quote_rig.start()
    before = (await state_of(handle)).deadlines.respond_by
    assert before is not None
    state = await handle.execute_update(
        QuoteWorkflow.extend_deadline,
        ExtendDeadlineInput(actor="vendor", deadline="respond_by", hours=24, reason="feriado"),
    )
    assert state.deadlines.respond_by == before + timedelta(hours=24)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            QuoteWorkflow.extend_deadline,
            ExtendDeadlineInput(actor="vendor", deadline="respond_by", hours=1),
        )
    assert "already extended" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            QuoteWorkflow.extend_deadline,
            ExtendDeadlineInput(actor="operator", deadline="pay_by", hours=1),
        )
    await handle.execute_update(
        QuoteWorkflow.extend_deadline,
        ExtendDeadlineInput(actor="operator", deadline="respond_by", hours=2),
    )
    result = await handle.result()
    await record_history(handle, "extended_then_expired")
    state = await state_of(handle)
    assert result.status == "EXPIRED"
    at = {e.kind: e.at for e in state.timeline}
    assert about(at["expired"] - at["requested"], timedelta(hours=48 + 24 + 2))
    extended = [e for e in state.timeline if e.kind == "deadline_extended"]
    assert [(e.actor, e.data["hours"]) for e in extended] == [("vendor", 24), ("operator", 2)]


async def test_a_failing_step_shows_its_error_in_the_state_query(
    quote_env: WorkflowEnvironment,
) -> None:
    world, tq = FakeWorld(projection_failures=1000), unique_task_queue()
    client = quote_env.client
    wid = ""

    async def progress() -> QuoteState:
        return await quote_progress(client, wid)

    async with fake_worker(client, tq, world):
        handle = await start_quote(client, tq, quote_input())
        wid = handle.id
        state = await progress()
        for _ in range(600):
            if state.last_error is not None:
                break
            await asyncio.sleep(0.1)
            state = await progress()
        assert (state.last_error or "").startswith("publish_quote: database is down (attempt ")
        assert state.current_step == "publish_quote"
        assert state.waiting_for == "the vendor to accept or reject"
        events_while_failing = len((await handle.fetch_history()).events)
        await quote_env.sleep(timedelta(hours=2))
        # Retries happen inside Temporal: hours of failures add no history.
        assert len((await handle.fetch_history()).events) == events_while_failing
        world.projection_failures = 0
        await quote_env.sleep(timedelta(minutes=20))
        state = await wait_until(handle, lambda s: s.current_step is None, timeout=60)
        assert (await progress()).last_error is None
        assert world.projections
        await handle.execute_update(QuoteWorkflow.reject, RejectInput(reason="No"))
        await handle.result()
