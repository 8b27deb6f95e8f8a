"""Refunds Khipu refuses because the payment was already settled to us ("El pago ya fue
rendido"), against the Khipu sandbox, on the Temporal dev server: every refusal ends in
REFUND_HELD, which operators see (the quote, the held list) and resolve over the API; none
ends CANCELLED with the buyer's money kept. Real pieces: QuoteWorkflow, the Khipu payment
activities, the sandbox, the API, PostgreSQL; projection, mail and ledger are the quote
tests' fakes (they record what the workflow asked)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from marketred.schemas.quotes import CancelInput, RecordRefundInput, RetryRefundInput
from marketred.settings import Settings
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.workflow_helpers import wait_until
from tests.support.factories import auth_headers, make_user
from tests.support.polling import eventually

from .test_payment_flow import TOTAL, running_flow

pytestmark = [pytest.mark.db, pytest.mark.filterwarnings("error:.*unfinished.*handler")]


async def test_operator_cancel_of_a_settled_payment_is_held_then_recorded_once_over_the_api(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(dev_server_env, engine, settings) as flow:
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=3600)
        await flow.pay(pid)
        await wait_until(handle, lambda s: s.status == "PAID")
        settled = await flow.sandbox.post(f"/_sandbox/payments/{pid}/settle")
        assert settled.status_code == 200, settled.text

        held = await handle.execute_update(
            QuoteWorkflow.cancel, CancelInput(actor="operator", reason="sin stock")
        )
        assert held.status == "REFUND_HELD"
        assert held.hold_reason is not None
        assert "ya fue rendido" in held.hold_reason
        payments, _ = await flow.rows(quote)
        assert [p.refunded_at for p in payments] == [None]

        async with flow.sessions() as session:
            operator = await make_user(session, "operator")
            await session.commit()
        op = auth_headers(settings, operator)
        base = f"/api/v1/quotes/{quote.id}"
        # Khipu still refuses: the retry leaves it held, with Khipu's reason.
        retried = await flow.api.post(f"{base}/retry-refund", headers=op)
        assert retried.status_code == 200, retried.text
        assert (await handle.query(QuoteWorkflow.state)).status == "REFUND_HELD"

        # The refund made by bank transfer, recorded with the same key twice: once.
        body = {"reference": "TRF-2026-0042", "amount": TOTAL}
        keyed = {**op, "Idempotency-Key": "record-refund-1"}
        wrong = await flow.api.post(
            f"{base}/record-refund", json={**body, "amount": TOTAL - 1}, headers=op
        )
        assert wrong.status_code == 422, wrong.text
        assert "amount" in wrong.text
        first = await flow.api.post(f"{base}/record-refund", json=body, headers=keyed)
        again = await flow.api.post(f"{base}/record-refund", json=body, headers=keyed)
        assert (first.status_code, again.status_code) == (200, 200), again.text
        assert again.json() == first.json()
        outcome = await handle.result()
        state = await handle.query(QuoteWorkflow.state)

    assert outcome.status == "REFUNDED"
    assert state.refunded_amount == TOTAL
    assert [(r.amount, r.refund_id) for r in flow.world.ledger_refunds] == [
        (TOTAL, held.held_refund.refund_id if held.held_refund else "")
    ]
    kinds = [t.kind for t in state.timeline]
    assert kinds[-4:] == ["refund_held", "refund_retry_failed", "refund_held", "refunded"]


async def test_a_late_payment_settled_before_its_refund_is_held_and_retried_once_khipu_can(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(dev_server_env, engine, settings) as flow:
        handle, _quote, pid = await flow.accepted_quote_with_payment(poll_seconds=3600)
        await flow.controls(hold=True)  # Khipu's webhooks wait until released
        paying = await flow.sandbox.post(
            f"/_sandbox/payments/{pid}/pay", json={"outcome": "normal", "verify_delay": 1.0}
        )
        assert paying.status_code == 200, paying.text
        await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))
        # The bank confirms the payment after the quote was cancelled, and Khipu settles
        # it to us before we ask for the refund.
        await eventually(lambda: _status(flow, pid), timeout=30)
        await flow.sandbox.post(f"/_sandbox/payments/{pid}/settle")
        await flow.sandbox.post("/_sandbox/notifications/release")
        held = await wait_until(handle, lambda s: s.status == "REFUND_HELD", timeout=60)
        assert held.held_refund is not None
        assert held.held_refund.amount == TOTAL

        # Nothing else moves it: the operator records the bank transfer.
        await handle.execute_update(QuoteWorkflow.retry_refund, RetryRefundInput())
        assert (await handle.query(QuoteWorkflow.state)).status == "REFUND_HELD"
        await handle.execute_update(
            QuoteWorkflow.record_refund, RecordRefundInput(reference="TRF-7", amount=TOTAL)
        )
        outcome = await handle.result()
        state = await handle.query(QuoteWorkflow.state)
    assert outcome.status == "CANCELLED"
    assert state.refunded_amount == TOTAL
    assert state.timeline[-1].kind == "late_payment_refunded"
    assert flow.world.ledger_refunds == []  # the ledger never saw this money come in


async def _status(flow, pid: str) -> bool:  # type: ignore[no-untyped-def]
    payment = (await flow.sandbox.get(f"/_sandbox/payments/{pid}")).json()
    return bool(payment["status"] == "done")
