"""Fake activities under the real names, for workflow tests where I/O is not the point."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.schemas.ledger import PostRefundInput, PostSaleInput
from marketred.schemas.payments import (
    CheckPaymentInput,
    CreatePaymentInput,
    PaymentCheck,
    PaymentLink,
    PaymentVerdict,
    PollPaymentInput,
    RefundInput,
    RefundResult,
)
from marketred.schemas.quotes import (
    DeadlinePolicy,
    NotifyInput,
    NotifyResult,
    ProjectQuoteInput,
    PublishQuoteInput,
    PublishResult,
    QuoteLine,
    QuoteOutcome,
    QuoteWorkflowInput,
    ReserveStockInput,
    ReserveStockResult,
    StockShortage,
)
from marketred.workflows.quote_workflow import QuoteWorkflow


def fake_payment_id(quote_id: uuid.UUID) -> str:
    """The Khipu payment id the fake `create_khipu_payment` gives a quote's payment."""
    return f"kp-{quote_id.hex[:8]}"


@dataclass
class FakeWorld:
    projections: list[ProjectQuoteInput] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    payments_created: list[CreatePaymentInput] = field(default_factory=list)
    verdict: PaymentVerdict = "pending"
    checks: int = 0
    deleted: list[str] = field(default_factory=list)
    refunds: list[RefundInput] = field(default_factory=list)
    sales: list[PostSaleInput] = field(default_factory=list)
    ledger_refunds: list[PostRefundInput] = field(default_factory=list)
    projection_failures: int = 0
    # The mail server refuses the mail sent with a transition's projection (publish_quote)
    # this many more times: that mail then goes out by send_quote_notification.
    publish_mail_failures: int = 0
    # Mail sent on its own (send_quote_notification) waits for this gate when set: with
    # publish_mail_failures it keeps a finished quote's run open (a racing update then
    # meets the workflow's own refusal, not a closed workflow).
    mail_gate: asyncio.Event | None = None
    # How each mail went out: "with the projection" or "on its own".
    mail_paths: list[str] = field(default_factory=list)
    # Khipu reads: held open until the gate is set (a read in flight), or failing first.
    check_gate: asyncio.Event | None = None
    check_failures: int = 0
    # Khipu's payment creation: held open until the gate is set, then refused if asked.
    create_gate: asyncio.Event | None = None
    create_refusal: str | None = None
    # Khipu's refunds: refused (non-retryably, like "El pago ya fue rendido") while set.
    refund_refusal: str | None = None
    # Khipu's refunds: failing (retryably, "no answer") this many more times.
    refund_failures: int = 0
    # Khipu is unreachable (every call fails) while set; failed calls are counted.
    khipu_down: bool = False
    failed_reads: int = 0
    # Tracked stock by variant (a variant not here is untracked) and each quote's
    # reservation, set like the real activity: exactly the items asked, or refused.
    stock: dict[uuid.UUID, int] = field(default_factory=dict)
    reservations: dict[uuid.UUID, dict[uuid.UUID, int]] = field(default_factory=dict)
    reserve_calls: int = 0
    # The first reservation is held open until this is set (a reservation in flight).
    reserve_gate: asyncio.Event | None = None

    def activities(self) -> list[Any]:
        world = self

        @activity.defn(name="project_quote")
        async def project_quote(inp: ProjectQuoteInput) -> bool:
            if world.projection_failures > 0:
                world.projection_failures -= 1
                raise RuntimeError("database is down")
            world.projections.append(inp)
            return True

        @activity.defn(name="publish_quote")
        async def publish_quote(inp: PublishQuoteInput) -> PublishResult:
            await project_quote(ProjectQuoteInput(state=inp.state, timeline_from=inp.timeline_from))
            if inp.event is None:
                return PublishResult(applied=True, mailed=False)
            if world.publish_mail_failures > 0:
                world.publish_mail_failures -= 1
                return PublishResult(applied=True, mailed=False)
            world.notifications.append(inp.event)
            world.mail_paths.append("with the projection")
            return PublishResult(applied=True, mailed=True)

        @activity.defn(name="send_quote_notification")
        async def send_quote_notification(inp: NotifyInput) -> NotifyResult:
            if world.mail_gate is not None:
                await world.mail_gate.wait()
            world.notifications.append(inp.event)
            world.mail_paths.append("on its own")
            return NotifyResult(sent=1, skipped=0)

        @activity.defn(name="create_khipu_payment")
        async def create_khipu_payment(inp: CreatePaymentInput) -> PaymentLink:
            if world.create_gate is not None:
                await world.create_gate.wait()
            if world.create_refusal is not None:
                raise ApplicationError(
                    world.create_refusal, type="PaymentRefused", non_retryable=True
                )
            if world.khipu_down:
                world.failed_reads += 1
                raise RuntimeError("Khipu is unreachable")
            world.payments_created.append(inp)
            return PaymentLink(
                khipu_payment_id=fake_payment_id(inp.quote_id),
                payment_url=f"https://khipu.test/payment/{inp.quote_id}",
            )

        @activity.defn(name="check_khipu_payment")
        async def check_khipu_payment(inp: CheckPaymentInput) -> PaymentCheck:
            del inp
            world.checks += 1
            if world.check_gate is not None:
                await world.check_gate.wait()
            if world.check_failures > 0:
                world.check_failures -= 1
                raise RuntimeError("Khipu timed out")
            if world.khipu_down:
                world.failed_reads += 1
                raise RuntimeError("Khipu is unreachable")
            reason = "amount differs" if world.verdict == "mismatch" else None
            return PaymentCheck(verdict=world.verdict, reason=reason)

        @activity.defn(name="poll_khipu_payment")
        async def poll_khipu_payment(inp: PollPaymentInput) -> PaymentCheck:
            check = await check_khipu_payment(inp.check)
            if check.verdict in inp.wait_while:
                raise ApplicationError(
                    f"still {check.verdict}",
                    type="PaymentPending",
                    # An expected answer, not an error: no warning per poll in the logs.
                    category=ApplicationErrorCategory.BENIGN,
                )
            return check

        @activity.defn(name="delete_khipu_payment")
        async def delete_khipu_payment(inp: CheckPaymentInput) -> None:
            world.deleted.append(inp.khipu_payment_id)

        @activity.defn(name="refund_khipu_payment")
        async def refund_khipu_payment(inp: RefundInput) -> RefundResult:
            if world.refund_failures > 0:
                world.refund_failures -= 1
                raise RuntimeError("Khipu did not answer")
            if world.refund_refusal is not None:
                raise ApplicationError(
                    world.refund_refusal, type="PaymentRefused", non_retryable=True
                )
            world.refunds.append(inp)
            return RefundResult(refunded_amount=inp.amount)

        @activity.defn(name="post_sale_to_ledger")
        async def post_sale_to_ledger(inp: PostSaleInput) -> None:
            world.sales.append(inp)

        @activity.defn(name="post_refund_to_ledger")
        async def post_refund_to_ledger(inp: PostRefundInput) -> None:
            world.ledger_refunds.append(inp)

        @activity.defn(name="reserve_stock")
        async def reserve_stock(inp: ReserveStockInput) -> ReserveStockResult:
            world.reserve_calls += 1
            if world.reserve_gate is not None and world.reserve_calls == 1:
                await world.reserve_gate.wait()
            held = world.reservations.get(inp.quote_id, {})
            for variant_id, n in held.items():
                world.stock[variant_id] += n
            wanted = {i.variant_id: i.quantity for i in inp.items if i.variant_id in world.stock}
            short = [
                StockShortage(
                    position=i.position,
                    label=i.label,
                    requested=i.quantity,
                    available=world.stock[i.variant_id],
                )
                for i in inp.items
                if i.variant_id in wanted and world.stock[i.variant_id] < i.quantity
            ]
            if short:
                for variant_id, n in held.items():
                    world.stock[variant_id] -= n
                return ReserveStockResult(short=short)
            for variant_id, n in wanted.items():
                world.stock[variant_id] -= n
            world.reservations[inp.quote_id] = wanted
            return ReserveStockResult()

        return [
            publish_quote,
            project_quote,
            reserve_stock,
            send_quote_notification,
            create_khipu_payment,
            check_khipu_payment,
            poll_khipu_payment,
            delete_khipu_payment,
            refund_khipu_payment,
            post_sale_to_ledger,
            post_refund_to_ledger,
        ]

    @property
    def payment_id(self) -> str:
        """The Khipu payment id of the first payment this world created."""
        return fake_payment_id(self.payments_created[0].quote_id)

    @property
    def timeline_kinds(self) -> list[str]:
        """The quote_events rows the projections wrote (each sends only new rows)."""
        rows = {e.seq: e.kind for p in self.projections for e in p.state.timeline}
        return [rows[seq] for seq in sorted(rows)]

    @property
    def statuses(self) -> list[str]:
        """Distinct statuses in projection order (what the quotes table went through)."""
        out: list[str] = []
        for p in self.projections:
            if not out or out[-1] != p.state.status:
                out.append(p.state.status)
        return out


def quote_input(**policy: int) -> QuoteWorkflowInput:
    quote_id = uuid.uuid4()
    return QuoteWorkflowInput(
        quote_id=quote_id,
        number="Q-000042",
        buyer_id=uuid.uuid4(),
        buyer_email="comprador@example.cl",
        vendor_id=uuid.uuid4(),
        vendor_slug="ferreteria-sur",
        vendor_name="Ferretería Sur",
        commission_bps=1000,
        lines=[
            QuoteLine(
                position=0,
                product_name="Martillo",
                sku="MART-1",
                quantity=2,
                original_unit_price=10_000,
                unit_price=10_000,
            ),
            QuoteLine(
                position=1,
                product_name="Clavos",
                variant_label="caja: 100",
                sku="CLAV-100",
                quantity=1,
                original_unit_price=2_500,
                unit_price=2_500,
            ),
        ],
        note="Para el viernes",
        # Hourly polling keeps a 72 h payment window to a few dozen fake checks.
        policy=DeadlinePolicy(**{"poll_seconds": 3600, **policy}),
    )


def fake_worker(client: Client, task_queue: str, world: FakeWorld) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[QuoteWorkflow],
        activities=world.activities(),
    )


async def start_quote(
    client: Client, task_queue: str, inp: QuoteWorkflowInput
) -> WorkflowHandle[QuoteWorkflow, QuoteOutcome]:
    return await client.start_workflow(
        QuoteWorkflow.run,
        inp,
        id=f"quote-{inp.quote_id}",
        task_queue=task_queue,
        execution_timeout=timedelta(days=60),
    )


@dataclass
class QuoteRig:
    """Fake activities (a `FakeWorld`) served by a worker on the test's own task queue,
    and the quote workflows the test starts there."""

    env: WorkflowEnvironment
    world: FakeWorld
    task_queue: str

    @property
    def client(self) -> Client:
        return self.env.client

    async def start(
        self, inp: QuoteWorkflowInput | None = None, **policy: int
    ) -> WorkflowHandle[QuoteWorkflow, QuoteOutcome]:
        """Start a quote workflow (`quote_input(**policy)` unless an input is given)."""
        return await start_quote(self.client, self.task_queue, inp or quote_input(**policy))
