"""QuoteWorkflow: one durable workflow per quote (docs/quotes.md, "Lifecycle").

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
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas import search_attributes as sa
    from marketred.schemas import temporal_contracts as c
    from marketred.schemas.money import format_clp
    from marketred.schemas.payments import (
        CheckPaymentInput,
        PaymentCheck,
        PollPaymentInput,
    )
    from marketred.schemas.problems import refusal_details
    from marketred.schemas.quotes import (
        Actor,
        NotificationEvent,
        NotifyInput,
        ProjectQuoteInput,
        PublishQuoteInput,
        QuoteRunState,
        QuoteState,
        QuoteStatus,
        QuoteWorkflowInput,
        TimelineEntry,
        totals_of,
    )
    from marketred.workflows.quote_steps import StepRunner, timed_out

# Khipu polling (0.2.0): an activity that retries while the payment is pending, so polls
# add no history. Young payments are read often (buyers pay within minutes and the
# webhook may be lost); after a day the interval grows to hours. The webhook signal is
# the fast path; the window's end always gets its own check.
POLL_YOUNG_FOR = timedelta(hours=24)
POLL_YOUNG_MAX = timedelta(minutes=30)
POLL_OLD_FIRST = timedelta(minutes=30)
POLL_OLD_MAX = timedelta(hours=3)

# Request-path Khipu calls (an HTTP request waits on the update): past this, the update
# fails with NoAnswer and the API answers 503 (0.2.0).
REQUEST_PATH = timedelta(seconds=30)


class QuoteWorkflowBase:
    """State, timeline and side effects; the lifecycle itself is in QuoteWorkflow.

    All the quote's state lives in `self.s` (one QuoteRunState): the `state` query is
    built from it and continue-as-new hands it to the next run whole."""

    def __init__(self, inp: QuoteWorkflowInput) -> None:
        self._in = inp
        self.s = (
            inp.carried.model_copy(deep=True)
            if inp.carried is not None
            else QuoteRunState(lines=list(inp.lines))
        )
        self._steps = StepRunner(self.s)
        # Background mail, in transition order; settled before the run ends or continues.
        self._pending: list[asyncio.Task[None]] = []

    # --- state -------------------------------------------------------------------

    @property
    def _lean(self) -> bool:
        return self._steps.lean

    def _snapshot(self, *, timeline_from: int = 1) -> QuoteState:
        subtotal, total = totals_of(self.s.lines, self.s.shipping)
        return QuoteState(
            quote_id=self._in.quote_id,
            number=self._in.number,
            status=self.s.status,
            version=self.s.version,
            vendor_slug=self._in.vendor_slug,
            buyer_id=self._in.buyer_id,
            currency=self._in.currency,
            lines=self.s.lines,
            subtotal=subtotal,
            shipping_cost=self.s.shipping,
            total=total,
            deadlines=self.s.deadlines.model_copy(),
            timeline=[e for e in self.s.timeline if e.seq >= timeline_from],
            waiting_for=self.s.waiting_for,
            current_step=self.s.current_step,
            last_error=self.s.last_error,
            hold_reason=self.s.hold_reason,
            reason=self.s.reason,
            vendor_note=self.s.vendor_note,
            carrier=self.s.carrier,
            tracking=self.s.tracking,
            payment_url=self.s.payment.payment_url if self.s.payment else None,
            khipu_payment_id=self.s.payment.khipu_payment_id if self.s.payment else None,
            refunded_amount=self.s.refunded,
            response_extended=self.s.response_extended,
            ship_overdue=self.s.ship_overdue,
        )

    @property
    def _total(self) -> int:
        return totals_of(self.s.lines, self.s.shipping)[1]

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
            self.s.status = status
        self.s.version += 1
        self.s.timeline.append(
            TimelineEntry(
                seq=len(self.s.timeline) + 1,
                kind=kind,
                status=self.s.status,
                actor=actor,
                message=message,
                at=workflow.now(),
                data=dict(data or {}),
            )
        )
        self._refresh_visibility()

    def _refresh_visibility(self) -> None:
        deadline = self.s.deadlines.next_for(self.s.status)
        visible = {
            "status": self.s.status,
            "total": str(self._total),
            "deadline": deadline.isoformat() if deadline else "",
        }
        # 0.2.0: upsert only what changed (each upsert is a history event).
        if not self._lean or visible != self.s.visible:
            updates: list[SearchAttributeUpdate[Any]] = [
                sa.QUOTE_STATUS.value_set(self.s.status),
                sa.VENDOR_SLUG.value_set(self._in.vendor_slug),
                sa.BUYER_ID.value_set(str(self._in.buyer_id)),
                sa.QUOTE_TOTAL.value_set(self._total),
                sa.QUOTE_DEADLINE.value_set(deadline)
                if deadline is not None
                else sa.QUOTE_DEADLINE.value_unset(),
            ]
            workflow.upsert_search_attributes(updates)
            self.s.visible = visible
        details = f"**{self.s.status}** · {self._in.number} · {format_clp(self._total)}"
        if self.s.waiting_for:
            details += f" · waiting for {self.s.waiting_for}"
        if deadline is not None:
            details += f" until {deadline:%Y-%m-%d %H:%M} UTC"
        if self.s.hold_reason:
            details += f" · HELD: {self.s.hold_reason}"
        workflow.set_current_details(details)

    def _wait_for(self, what: str | None) -> None:
        self.s.waiting_for = what
        self._refresh_visibility()

    # --- side effects ------------------------------------------------------------

    async def _published(self, event: NotificationEvent | None) -> QuoteState:
        """An update's last step, its transition recorded: publish it (mailing about
        `event`) and answer with the new state."""
        await self._publish(event)
        return self._snapshot()

    async def _publish(
        self, event: NotificationEvent | None = None, *, first: bool = False
    ) -> None:
        """Mirror the state to the database and mail about it: in one activity since
        PUBLISH_IN_ONE; before, the projection, then the mail in the background."""
        if not first and not self.s.started:
            await workflow.wait_condition(lambda: self.s.started)
        if self._lean and self._steps.publish_in_one:
            await self._publish_in_one(event)
            return
        if self._lean:
            # Only the timeline rows not yet written (plus the current status's rows,
            # which date the end of a closed quote): not the whole timeline every time.
            seq = self._projection_from()
            projected = len(self.s.timeline)
            await self._steps.run(
                c.PROJECT_QUOTE,
                ProjectQuoteInput(state=self._snapshot(timeline_from=seq), timeline_from=seq),
            )
            self.s.projected_seq = max(self.s.projected_seq, projected)
        else:
            await self._steps.run(c.PROJECT_QUOTE, ProjectQuoteInput(state=self._snapshot()))
        if event is not None:
            notice = NotifyInput(
                quote_id=self._in.quote_id,
                workflow_id=workflow.info().workflow_id,
                event=event,
                # Mail needs no timeline.
                state=self._snapshot(timeline_from=len(self.s.timeline) + 1)
                if self._lean
                else self._snapshot(),
            )
            previous = self._pending[-1] if self._pending else None
            self._pending.append(asyncio.create_task(self._send_after(previous, notice)))

    async def _publish_in_one(self, event: NotificationEvent | None) -> None:
        """Patch PUBLISH_IN_ONE: one activity projects and mails. The mail goes with it
        only when no earlier mail is still on its way (mail keeps transition order);
        otherwise, or when the mail server failed, it follows in the background."""
        seq = self._projection_from()
        projected = len(self.s.timeline)
        mail_now = event is not None and all(task.done() for task in self._pending)
        published = await self._steps.run(
            c.PUBLISH_QUOTE,
            PublishQuoteInput(
                state=self._snapshot(timeline_from=seq),
                timeline_from=seq,
                workflow_id=workflow.info().workflow_id,
                event=event if mail_now else None,
            ),
            timeout=timedelta(seconds=60),
        )
        self.s.projected_seq = max(self.s.projected_seq, projected)
        if event is None or (published is not None and published.mailed):
            return
        notice = NotifyInput(
            quote_id=self._in.quote_id,
            workflow_id=workflow.info().workflow_id,
            event=event,
            state=self._snapshot(timeline_from=len(self.s.timeline) + 1),
        )
        previous = self._pending[-1] if self._pending else None
        self._pending.append(asyncio.create_task(self._send_after(previous, notice)))

    def _projection_from(self) -> int:
        first = self.s.projected_seq + 1
        for entry in reversed(self.s.timeline):
            if entry.status != self.s.status:
                break
            first = min(first, entry.seq)
        return first

    async def _send_after(self, previous: asyncio.Task[None] | None, notice: NotifyInput) -> None:
        """Mail in transition order (a "new quote" never arrives after "cancelled")."""
        if previous is not None:
            await previous
        await self._steps.run(c.SEND_QUOTE_NOTIFICATION, notice, timeout=timedelta(seconds=60))

    async def _settle(self) -> None:
        """Let update handlers and background mail finish before the workflow closes."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            while self._pending:
                task = self._pending.pop(0)
                await task
            if workflow.all_handlers_finished():
                return

    async def _continue_as_new_if_due(self) -> None:
        """Past the history budget (or when Temporal suggests it), hand the whole state
        to a fresh run once no handler is running and all mail went out."""
        if not self._lean:
            return
        info = workflow.info()
        if not (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._in.history_budget
        ):
            return
        await self._settle()
        self.s.run += 1
        workflow.continue_as_new(self._in.model_copy(update={"carried": self.s}))

    def _payment_input(self) -> CheckPaymentInput:
        assert self.s.payment is not None
        return CheckPaymentInput(
            quote_id=self._in.quote_id,
            workflow_id=workflow.info().workflow_id,
            khipu_payment_id=self.s.payment.khipu_payment_id,
            amount=self._total,
            currency=self._in.currency,
        )

    async def _check_payment(self, *, within: timedelta | None = None) -> PaymentCheck:
        check = await self._steps.run(c.CHECK_KHIPU_PAYMENT, self._payment_input(), within=within)
        assert check is not None
        return check

    async def _delete_payment(self) -> None:
        await self._steps.run(c.DELETE_KHIPU_PAYMENT, self._payment_input())

    # --- waiting -----------------------------------------------------------------

    async def _poll_payment(
        self, until: datetime, *, wait_while: list[str], keep_waiting: Any
    ) -> PaymentCheck | str:
        """0.2.0 polling: one activity reads Khipu and retries (no history) while the
        verdict is in `wait_while`, until `until`. Returns the verdict that ended it, or
        "nudged" (webhook), "changed" (`keep_waiting()` turned false: the state moved,
        a deadline moved) or "timeout" (`until` or the end of the young phase)."""
        assert self.s.payment is not None
        started = self.s.payment_started_at or workflow.now()
        now = workflow.now()
        young_until = started + POLL_YOUNG_FOR
        if now < young_until:
            stop, first, most = (
                min(until, young_until),
                timedelta(seconds=self._in.policy.poll_seconds),
                POLL_YOUNG_MAX,
            )
        else:
            stop, first, most = until, POLL_OLD_FIRST, POLL_OLD_MAX
        if stop <= now:
            return "timeout"
        self.s.payment_nudged = False
        poller = workflow.start_activity(
            c.POLL_KHIPU_PAYMENT.name,
            PollPaymentInput(check=self._payment_input(), wait_while=wait_while),
            result_type=PaymentCheck,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=stop - now,
            retry_policy=RetryPolicy(
                initial_interval=first,
                backoff_coefficient=2.0,
                maximum_interval=max(most, first),
                maximum_attempts=0,
            ),
            summary="Khipu payment poll",
        )
        self.s.current_step = c.POLL_KHIPU_PAYMENT.name
        try:
            await workflow.wait_condition(
                lambda: poller.done() or self.s.payment_nudged or not keep_waiting()
            )
            if not poller.done():
                poller.cancel()
                try:
                    await poller
                except (ActivityError, asyncio.CancelledError):
                    pass
                return "nudged" if self.s.payment_nudged else "changed"
            try:
                check: PaymentCheck = poller.result()
                return check
            except ActivityError as exc:
                if not timed_out(exc):
                    raise
        finally:
            self.s.current_step = None
        # Temporal gives up as soon as the next retry would land past `stop`: sit out
        # the rest (one timer) rather than start a new poll at once.
        remaining = (stop - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(
                    lambda: self.s.payment_nudged or not keep_waiting(),
                    timeout=remaining,
                    timeout_summary="until the next Khipu poll phase",
                )
            except TimeoutError:
                return "timeout"
            return "nudged" if self.s.payment_nudged else "changed"
        return "timeout"

    async def _wait_in(self, status: QuoteStatus, deadline: str, poll: float | None = None) -> str:
        """Wait while the quote stays in `status`: "moved" when it left it, "deadline"
        when the named deadline passed, "tick" when a Khipu payment exists and either
        `poll` seconds passed or a webhook nudged us (pre-0.2.0 polling). A deadline
        moved by extend_deadline (or a payment just created) is honoured at once."""
        while self.s.status == status:
            await self._continue_as_new_if_due()
            until: datetime | None = getattr(self.s.deadlines, deadline)
            timeout = None if until is None else (until - workflow.now()).total_seconds()
            if timeout is not None and timeout <= 0:
                return "deadline"
            polling = poll is not None and self.s.payment is not None
            if polling and poll is not None:
                timeout = poll if timeout is None else min(timeout, poll)
            self.s.deadline_moved = False
            try:
                await workflow.wait_condition(
                    lambda polling=polling: (  # type: ignore[misc]
                        self.s.status != status
                        or self.s.deadline_moved
                        or (polling and self.s.payment_nudged)
                    ),
                    timeout=timeout,
                    timeout_summary=deadline,
                )
            except TimeoutError:
                if polling and (until is None or workflow.now() < until):
                    return "tick"
                continue
            if polling and self.s.payment_nudged:
                return "tick"
        return "moved"

    # --- shared rules ------------------------------------------------------------

    def _refuse_unless(self, ok: bool, why: str) -> None:
        if not ok:
            raise ApplicationError(
                why, *refusal_details(why), type="QuoteStateConflict", non_retryable=True
            )

    def _refuse(self, why: str | None) -> None:
        """Refuse for the reason a rule gave (`quote_rules`), if it gave one."""
        self._refuse_unless(why is None, why or "")
