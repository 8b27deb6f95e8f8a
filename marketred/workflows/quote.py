"""QuoteWorkflow: one durable workflow per quote (design.md §4).

REQUESTED → ACCEPTED → PAID → SHIPPED → DELIVERED → COMPLETED, or REJECTED, EXPIRED,
PAYMENT_EXPIRED, CANCELLED, REFUNDED. Updates change the state synchronously in their
handler (so of two racing updates exactly one wins), then mirror it to the database and
mail the party who must act. The run loop only waits on deadlines.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas import search_attributes as sa
    from marketred.schemas.ledger import PostRefundInput
    from marketred.schemas.money import format_clp
    from marketred.schemas.payments import (
        CheckPaymentInput,
        PaymentCheck,
        PaymentLink,
        RefundInput,
        RefundResult,
    )
    from marketred.schemas.quotes import (
        FINAL_STATUSES,
        Actor,
        CancelInput,
        Deadlines,
        NotificationEvent,
        NotifyInput,
        ProjectQuoteInput,
        QuoteState,
        QuoteStatus,
        QuoteWorkflowInput,
        TimelineEntry,
        totals_of,
    )
    from marketred.workflows.quote_steps import StepRunner


class QuoteWorkflowBase:
    """State, timeline and side effects; the lifecycle itself is in QuoteWorkflow."""

    def __init__(self, inp: QuoteWorkflowInput) -> None:
        self._in = inp
        self._status: QuoteStatus = "REQUESTED"
        self._version = 0
        self._lines = list(inp.lines)
        self._shipping = 0
        self._deadlines = Deadlines()
        self._timeline: list[TimelineEntry] = []
        self._steps = StepRunner()
        self._waiting_for: str | None = None
        self._hold_reason: str | None = None
        # Khipu's verdict that caused the hold; "mismatch" means money may have arrived.
        self._hold_verdict: str | None = None
        self._reason: str | None = None
        self._vendor_note: str | None = None
        self._carrier: str | None = None
        self._tracking: str | None = None
        self._payment: PaymentLink | None = None
        self._payment_creating = False
        self._payment_nudged = False
        self._deadline_moved = False
        self._refunded = 0
        self._response_extended = False
        self._ship_overdue = False
        self._pending: list[asyncio.Task[None]] = []
        # Set once the run method has published the request, so an update that lands in
        # the very first workflow task never mails or projects ahead of it.
        self._started = False
        # A cancel-with-refund in progress (the late-payment watch must not refund too).
        self._refunding = False
        # An operator's recheck of a held payment is asking Khipu.
        self._rechecking = False

    # --- state -------------------------------------------------------------------

    def _snapshot(self) -> QuoteState:
        subtotal, total = totals_of(self._lines, self._shipping)
        return QuoteState(
            quote_id=self._in.quote_id,
            number=self._in.number,
            status=self._status,
            version=self._version,
            vendor_slug=self._in.vendor_slug,
            buyer_id=self._in.buyer_id,
            currency=self._in.currency,
            lines=self._lines,
            subtotal=subtotal,
            shipping_cost=self._shipping,
            total=total,
            deadlines=self._deadlines.model_copy(),
            timeline=list(self._timeline),
            waiting_for=self._waiting_for,
            last_error=self._steps.last_error,
            hold_reason=self._hold_reason,
            reason=self._reason,
            vendor_note=self._vendor_note,
            carrier=self._carrier,
            tracking=self._tracking,
            payment_url=self._payment.payment_url if self._payment else None,
            khipu_payment_id=self._payment.khipu_payment_id if self._payment else None,
            refunded_amount=self._refunded,
            response_extended=self._response_extended,
            ship_overdue=self._ship_overdue,
        )

    @property
    def _total(self) -> int:
        return totals_of(self._lines, self._shipping)[1]

    def _record(
        self,
        kind: str,
        actor: Actor,
        message: str = "",
        *,
        status: QuoteStatus | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        """Change state (synchronously, before any await) and append a timeline row."""
        if status is not None:
            self._status = status
        self._version += 1
        self._timeline.append(
            TimelineEntry(
                seq=len(self._timeline) + 1,
                kind=kind,
                status=self._status,
                actor=actor,
                message=message,
                at=workflow.now(),
                data=dict(data or {}),
            )
        )
        self._refresh_visibility()

    def _refresh_visibility(self) -> None:
        deadline = self._deadlines.next_for(self._status)
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.QUOTE_STATUS.value_set(self._status),
            sa.VENDOR_SLUG.value_set(self._in.vendor_slug),
            sa.BUYER_ID.value_set(str(self._in.buyer_id)),
            sa.QUOTE_TOTAL.value_set(self._total),
            sa.QUOTE_DEADLINE.value_set(deadline)
            if deadline is not None
            else sa.QUOTE_DEADLINE.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)
        details = f"**{self._status}** · {self._in.number} · {format_clp(self._total)}"
        if self._waiting_for:
            details += f" · waiting for {self._waiting_for}"
        if deadline is not None:
            details += f" until {deadline:%Y-%m-%d %H:%M} UTC"
        if self._hold_reason:
            details += f" · HELD: {self._hold_reason}"
        workflow.set_current_details(details)

    def _wait_for(self, what: str | None) -> None:
        self._waiting_for = what
        self._refresh_visibility()

    # --- side effects ------------------------------------------------------------

    async def _publish(
        self, event: NotificationEvent | None = None, *, first: bool = False
    ) -> None:
        """Mirror the state to the database, then (in the background) mail about it."""
        if not first and not self._started:
            await workflow.wait_condition(lambda: self._started)
        await self._steps.run("project_quote", ProjectQuoteInput(state=self._snapshot()))
        if event is not None:
            notice = NotifyInput(
                quote_id=self._in.quote_id,
                workflow_id=workflow.info().workflow_id,
                event=event,
                state=self._snapshot(),
            )
            previous = self._pending[-1] if self._pending else None
            self._pending.append(asyncio.create_task(self._send_after(previous, notice)))

    async def _send_after(self, previous: asyncio.Task[None] | None, notice: NotifyInput) -> None:
        """Mail in transition order (a "new quote" never arrives after "cancelled")."""
        if previous is not None:
            await previous
        await self._steps.run("send_quote_notification", notice, timeout=timedelta(seconds=60))

    async def _settle(self) -> None:
        """Let update handlers and background mail finish before the workflow closes."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self._pending:
            task = self._pending.pop(0)
            await task

    async def _check_payment(self) -> PaymentCheck:
        assert self._payment is not None
        check = await self._steps.run(
            "check_khipu_payment",
            CheckPaymentInput(
                quote_id=self._in.quote_id,
                workflow_id=workflow.info().workflow_id,
                khipu_payment_id=self._payment.khipu_payment_id,
                amount=self._total,
                currency=self._in.currency,
            ),
            PaymentCheck,
        )
        assert check is not None
        return check

    async def _delete_payment(self) -> None:
        assert self._payment is not None
        await self._steps.run(
            "delete_khipu_payment",
            CheckPaymentInput(
                quote_id=self._in.quote_id,
                workflow_id=workflow.info().workflow_id,
                khipu_payment_id=self._payment.khipu_payment_id,
                amount=self._total,
                currency=self._in.currency,
            ),
        )

    async def _refund(self, reason: str, *, post_to_ledger: bool) -> int:
        assert self._payment is not None
        result = await self._steps.run(
            "refund_khipu_payment",
            RefundInput(
                quote_id=self._in.quote_id,
                workflow_id=workflow.info().workflow_id,
                khipu_payment_id=self._payment.khipu_payment_id,
                amount=self._total,
                reason=reason,
            ),
            RefundResult,
            timeout=timedelta(minutes=2),
        )
        assert result is not None
        self._refunded = result.refunded_amount or self._total
        if post_to_ledger:
            await self._steps.run(
                "post_refund_to_ledger",
                PostRefundInput(quote_id=self._in.quote_id, amount=self._refunded, reason=reason),
            )
        return self._refunded

    # --- waiting -----------------------------------------------------------------

    async def _wait_in(self, status: QuoteStatus, deadline: str, poll: float | None = None) -> str:
        """Wait while the quote stays in `status`: "moved" when it left it, "deadline"
        when the named deadline passed, "tick" when a Khipu payment exists and either
        `poll` seconds passed or a webhook nudged us. A deadline moved by
        extend_deadline (or a payment just created) is honoured at once."""
        while self._status == status:
            until: datetime | None = getattr(self._deadlines, deadline)
            timeout = None if until is None else (until - workflow.now()).total_seconds()
            if timeout is not None and timeout <= 0:
                return "deadline"
            polling = poll is not None and self._payment is not None
            if polling and poll is not None:
                timeout = poll if timeout is None else min(timeout, poll)
            self._deadline_moved = False
            try:
                await workflow.wait_condition(
                    lambda polling=polling: (  # type: ignore[misc]
                        self._status != status
                        or self._deadline_moved
                        or (polling and self._payment_nudged)
                    ),
                    timeout=timeout,
                    timeout_summary=deadline,
                )
            except TimeoutError:
                if polling and (until is None or workflow.now() < until):
                    return "tick"
                continue
            if polling and self._payment_nudged:
                return "tick"
        return "moved"

    # --- shared rules ------------------------------------------------------------

    def _refuse_unless(self, ok: bool, why: str) -> None:
        if not ok:
            raise ApplicationError(why, type="QuoteStateConflict", non_retryable=True)

    def _check_cancel(self, inp: CancelInput) -> None:
        if inp.expected_status is not None:
            self._refuse_unless(
                inp.expected_status == self._status,
                f"the quote changed meanwhile: it is now {self._status}",
            )
        if inp.actor == "operator":
            self._refuse_unless(
                self._status not in FINAL_STATUSES, f"the quote is already {self._status}"
            )
            self._refuse_unless(
                self._status != "DELIVERED", "the delivered sale is being completed"
            )
            return
        self._refuse_unless(
            self._status in ("REQUESTED", "ACCEPTED")
            or (self._status == "PAID" and self._ship_overdue),
            "the buyer can cancel only before paying, or once the vendor missed the ship-by date",
        )
