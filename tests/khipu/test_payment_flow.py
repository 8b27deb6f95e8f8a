"""The quote workflow's payment phase end to end on the Temporal dev server.

Real pieces: QuoteWorkflow, the Khipu payment activities, the Khipu sandbox and the API
(POST /webhooks/khipu) both under uvicorn, PostgreSQL. The sandbox delivers its signed
webhooks to the API, which signals the workflow. Mail, projection and ledger activities
are the quote tests' fakes (tests/quotes/fakes.py): they record what the workflow asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.activities.payments import PaymentActivities
from marketred.app import create_app
from marketred.integrations.khipu import KhipuClient, PaymentCreated, PaymentCreateRequest
from marketred.integrations.khipu import Payment as KhipuPayment
from marketred.sandbox.khipu import create_app as create_sandbox
from marketred.schemas.quotes import (
    AcceptInput,
    CancelInput,
    QuoteState,
    StartPaymentInput,
)
from marketred.settings import Settings
from marketred.store.models import Payment, PaymentEvent, Quote, User
from marketred.store.session import create_session_factory
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld, quote_input, start_quote
from tests.quotes.workflow_helpers import ship_and_deliver, state_of, wait_until
from tests.support.api import make_resources
from tests.support.factories import auth_headers, make_user
from tests.support.khipu import API_KEY, RECEIVER_ID
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.servers import serve
from tests.support.temporal import unique_task_queue

from .payment_support import make_quote

pytestmark = pytest.mark.db

PAYMENT_ACTIVITIES = {
    "create_khipu_payment",
    "check_khipu_payment",
    "poll_khipu_payment",
    "delete_khipu_payment",
    "refund_khipu_payment",
}
SHIPPING = 3_000
TOTAL = 2 * 10_000 + 2_500 + SHIPPING  # quote_input()'s lines plus shipping


@dataclass
class Flow:
    client: Client
    task_queue: str
    world: FakeWorld
    sandbox: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    api: httpx.AsyncClient

    async def accepted_quote_with_payment(
        self, poll_seconds: int, valid_hours: int | None = None
    ) -> tuple[WorkflowHandle[Any, Any], Quote, str]:
        async with self.sessions() as session:
            quote = await make_quote(session, total=TOTAL)
            await session.commit()
        # No return window: these tests end at COMPLETED (returns: tests/quotes).
        inp = quote_input(poll_seconds=poll_seconds, return_days=0).model_copy(
            update={"quote_id": quote.id}
        )
        handle = await start_quote(self.client, self.task_queue, inp)
        await handle.execute_update(
            QuoteWorkflow.accept, AcceptInput(shipping_cost=SHIPPING, valid_hours=valid_hours)
        )
        started = await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        state = await state_of(handle)
        assert state.khipu_payment_id is not None
        assert started.payment_url == state.payment_url
        return handle, quote, state.khipu_payment_id

    async def pay(self, payment_id: str) -> None:
        r = await self.sandbox.post(f"/_sandbox/payments/{payment_id}/pay", json={})
        assert r.status_code == 200, r.text

    async def controls(self, **switches: object) -> None:
        r = await self.sandbox.post("/_sandbox/controls", json=switches)
        assert r.status_code == 200, r.text

    async def deliveries(self, payment_id: str) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = (await self.sandbox.get("/_sandbox/notifications")).json()
        return [d for d in log if d["payment_id"] == payment_id]

    async def rows(self, quote: Quote) -> tuple[list[Payment], list[PaymentEvent]]:
        async with self.sessions() as session:
            payments = list(
                await session.scalars(select(Payment).where(Payment.quote_id == quote.id))
            )
            events = list(
                await session.scalars(select(PaymentEvent).where(PaymentEvent.quote_id == quote.id))
            )
        return payments, events


@asynccontextmanager
async def running_flow(
    env: WorkflowEnvironment,
    engine: AsyncEngine,
    settings: Settings,
    khipu_factory: Callable[[str, str, httpx.AsyncClient], KhipuClient] = KhipuClient,
) -> AsyncIterator[Flow]:
    sessions = create_session_factory(engine)
    sandbox_port, api_port = free_port(), free_port()
    sandbox = create_sandbox(
        api_key=API_KEY,
        secret=settings.khipu_webhook_secret,
        receiver_id=RECEIVER_ID,
        public_url=f"http://127.0.0.1:{sandbox_port}",
        state_path=None,
        notify_base_delay=0.05,
    )
    async with httpx.AsyncClient(timeout=10) as http:
        api = create_app(
            settings, make_resources(settings, engine, sessions, http, temporal_client=env.client)
        )
        async with (
            serve(sandbox, sandbox_port) as sandbox_url,
            serve(api, api_port) as api_url,
            httpx.AsyncClient(base_url=sandbox_url) as sandbox_http,
            httpx.AsyncClient(base_url=api_url, timeout=30) as api_http,
        ):
            payments = PaymentActivities(
                sessions,
                khipu_factory(sandbox_url, API_KEY, http),
                public_url=api_url,
                receiver_id=RECEIVER_ID,
            )
            world = FakeWorld()
            fakes = [a for a in world.activities() if _name(a) not in PAYMENT_ACTIVITIES]
            queue = unique_task_queue()
            async with Worker(
                env.client,
                task_queue=queue,
                workflows=[QuoteWorkflow],
                activities=[
                    *fakes,
                    payments.create_khipu_payment,
                    payments.check_khipu_payment,
                    payments.poll_khipu_payment,
                    payments.delete_khipu_payment,
                    payments.refund_khipu_payment,
                ],
            ):
                yield Flow(env.client, queue, world, sandbox_http, sessions, api_http)


def _name(activity_fn: object) -> str:
    defn = getattr(activity_fn, "__temporal_activity_definition")
    return str(defn.name)


def entries(state: QuoteState, kind: str) -> int:
    return sum(1 for t in state.timeline if t.kind == kind)


async def test_notification_sent_three_times_out_of_order_pays_once_and_posts_once(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(dev_server_env, engine, settings) as flow:
        # Polling far away: only the webhook can move the quote.
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=3600)
        await flow.controls(copies=3, hold=True)
        await flow.pay(pid)
        assert len(await eventually(lambda: flow.deliveries(pid))) == 3
        r = await flow.sandbox.post("/_sandbox/notifications/release")  # newest first
        assert r.json() == {"released": 3}

        state = await wait_until(handle, lambda s: s.status == "PAID")
        delivered = await eventually(lambda: _all_answered(flow, pid))
        assert [a["status_code"] for d in delivered for a in d["attempts"]] == [200, 200, 200]

        payments, events = await flow.rows(quote)
        assert [(p.khipu_payment_id, p.status, p.amount) for p in payments] == [
            (pid, "paid", TOTAL)
        ]
        assert [e.outcome for e in events] == ["received"]
        assert entries(state, "paid") == 1
        assert flow.world.statuses.count("PAID") == 1

        await ship_and_deliver(handle, "CX1", carrier="Chilexpress")
        assert (await handle.result()).status == "COMPLETED"
        assert [s.quote_id for s in flow.world.sales] == [quote.id]  # one ledger posting


async def _all_answered(flow: Flow, pid: str) -> list[dict[str, Any]] | None:
    log = await flow.deliveries(pid)
    return log if log and all(d["state"] == "delivered" for d in log) else None


async def test_dropped_webhook_is_recovered_by_polling(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(dev_server_env, engine, settings) as flow:
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=1)
        await flow.controls(drop_next=1)
        await flow.pay(pid)

        state = await wait_until(handle, lambda s: s.status == "PAID")

        [delivery] = await flow.deliveries(pid)
        assert (delivery["state"], delivery["attempts"]) == ("dropped", [])
        payments, events = await flow.rows(quote)
        assert [(p.status, p.paid_at is not None) for p in payments] == [("paid", True)]
        assert events == []  # no webhook ever arrived
        assert entries(state, "paid") == 1
        await handle.terminate("test over")


class AmountTamperingKhipu(KhipuClient):
    """Creates the payment for 1 peso less than asked (a payment that is not the quote's)."""

    async def create_payment(self, request: PaymentCreateRequest) -> PaymentCreated:
        return await super().create_payment(
            request.model_copy(update={"amount": request.amount - 1})
        )


async def test_amount_mismatch_is_held_for_an_operator_who_cancels_with_refund(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(dev_server_env, engine, settings, AmountTamperingKhipu) as flow:
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=3600)
        await flow.pay(pid)

        state = await wait_until(handle, lambda s: s.hold_reason is not None)
        assert state.status == "ACCEPTED"
        assert state.hold_reason == "amount is $25.499, expected $25.500"
        payments, events = await flow.rows(quote)
        assert [p.status for p in payments] == ["held"]
        assert [e.outcome for e in events] == ["received"]

        await handle.execute_update(
            QuoteWorkflow.cancel, CancelInput(actor="operator", reason="monto distinto")
        )
        assert (await handle.result()).status == "REFUNDED"
        refunded = (await flow.sandbox.get(f"/_sandbox/payments/{pid}")).json()
        assert refunded["status_detail"] == "reversed"
        assert len(refunded["refunds"]) == 1


@dataclass
class KhipuIncident:
    fixed: bool = False


class MisreportingKhipu(KhipuClient):
    """Reads payments back with another receiver id until the incident is fixed (Khipu
    answering wrong for a while: the payment is held, an operator rechecks later)."""

    def __init__(self, base_url: str, api_key: str, http: httpx.AsyncClient,
                 incident: KhipuIncident) -> None:  # fmt: skip
        super().__init__(base_url, api_key, http)
        self.incident = incident

    async def get_payment(self, payment_id: str) -> KhipuPayment:
        payment = await super().get_payment(payment_id)
        if self.incident.fixed:
            return payment
        return payment.model_copy(update={"receiver_id": (payment.receiver_id or 0) + 1})


async def test_operator_rechecks_a_held_payment_through_the_api_once_khipu_answers_right(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    incident = KhipuIncident()

    def khipu(url: str, key: str, http: httpx.AsyncClient) -> KhipuClient:
        return MisreportingKhipu(url, key, http, incident)

    async with running_flow(dev_server_env, engine, settings, khipu) as flow:
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=3600)
        await flow.pay(pid)
        held = await wait_until(handle, lambda s: s.hold_reason is not None)
        assert held.hold_reason == f"receiver id is {RECEIVER_ID + 1}, expected {RECEIVER_ID}"
        async with flow.sessions() as session:
            operator = await make_user(session, "operator")
            buyer = await session.get(User, quote.buyer_id)
            await session.commit()
        assert buyer is not None
        url = f"/api/v1/quotes/{quote.id}/recheck-payment"

        # The buyer may see the quote but not release its payment.
        refused = await flow.api.post(url, headers=auth_headers(settings, buyer))
        assert refused.status_code == 403, refused.text
        # Khipu still answers wrong: the payment stays held, with one more check on record.
        still = await flow.api.post(url, headers=auth_headers(settings, operator))
        assert still.status_code == 200, still.text
        state = await state_of(handle)
        assert (state.status, state.hold_reason) == ("ACCEPTED", held.hold_reason)
        assert entries(state, "payment_recheck") == 1
        payments, _ = await flow.rows(quote)
        assert [p.status for p in payments] == ["held"]

        incident.fixed = True
        released = await flow.api.post(url, headers=auth_headers(settings, operator))
        assert released.status_code == 200, released.text
        state = await state_of(handle)
        assert (state.status, state.hold_reason) == ("PAID", None)
        assert entries(state, "paid") == 1
        payments, _ = await flow.rows(quote)
        assert [(p.status, p.paid_at is not None) for p in payments] == [("paid", True)]
        # Nothing is held any more: a second recheck is a conflict and changes nothing.
        again = await flow.api.post(url, headers=auth_headers(settings, operator))
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith("application/problem+json")
        assert "not held" in again.json()["detail"]
        assert (await state_of(handle)).status == "PAID"
        await handle.terminate("test over")


async def test_operator_cancel_of_a_paid_quote_refunds_once(
    dev_server_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(dev_server_env, engine, settings) as flow:
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=3600)
        await flow.pay(pid)
        await wait_until(handle, lambda s: s.status == "PAID")

        state = await handle.execute_update(
            QuoteWorkflow.cancel, CancelInput(actor="operator", reason="sin stock")
        )
        assert (state.status, state.refunded_amount) == ("REFUNDED", TOTAL)
        assert (await handle.result()).status == "REFUNDED"

        payments, _ = await flow.rows(quote)
        assert [(p.status, p.refunded_amount) for p in payments] == [("refunded", TOTAL)]
        at_khipu = (await flow.sandbox.get(f"/_sandbox/payments/{pid}")).json()
        assert len(at_khipu["refunds"]) == 1
        assert [r.amount for r in flow.world.ledger_refunds] == [TOTAL]


async def test_unpaid_payment_is_checked_deleted_and_the_quote_expires_at_the_window_end(
    quote_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> None:
    async with running_flow(quote_env, engine, settings) as flow:
        handle, quote, pid = await flow.accepted_quote_with_payment(poll_seconds=900, valid_hours=1)

        assert (await handle.result()).status == "PAYMENT_EXPIRED"

        calls = [c["operation"] for c in (await flow.sandbox.get("/_sandbox/calls")).json()]
        assert calls.count("postPayment") == 1
        assert calls.count("deletePaymentById") == 1
        # Polled while waiting (every 15 min of the hour), checked again after the delete.
        assert calls.count("getPaymentById") >= 4
        assert calls.index("deletePaymentById") < len(calls) - 1
        listed = (await flow.sandbox.get("/_sandbox/payments")).json()
        assert [p["deleted"] for p in listed if p["payment_id"] == pid] == [True]
        payments, events = await flow.rows(quote)
        assert [p.status for p in payments] == ["deleted"]
        assert events == []
