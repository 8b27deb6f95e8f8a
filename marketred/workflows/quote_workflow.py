"""The QuoteWorkflow definition: the lifecycle run loop, the payment, shipping and
delivery phases, their updates, the signal and the query. Composed with the vendor's
side (quote_acceptance.py) and the returns and refunds (quote_returns.py, on
quote_refunds.py), all on QuoteWorkflowBase (quote_base.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas import temporal_contracts as c
    from marketred.schemas.ledger import PostSaleInput
    from marketred.schemas.money import format_clp
    from marketred.schemas.payments import CreatePaymentInput, PaymentCheck, PaymentNotified
    from marketred.schemas.quotes import (
        FINAL_STATUSES,
        PAID_STATUSES,
        RESOLVED_BY_A_PERSON,
        Actor,
        CancelInput,
        ConfirmDeliveryInput,
        MarkShippedInput,
        QuoteOutcome,
        QuoteState,
        QuoteWorkflowInput,
        RecheckPaymentInput,
        RetryNowInput,
        StartPaymentInput,
        StartPaymentResult,
    )
    from marketred.workflows import quote_rules as rules
    from marketred.workflows.quote_acceptance import QuoteAcceptance
    from marketred.workflows.quote_base import REQUEST_PATH
    from marketred.workflows.quote_returns import QuoteReturns

# workflow.patched id: the buyer is reminded to pay before the payment window closes.
PAYMENT_REMINDER = "payment-reminder"


# Under Worker Versioning a quote is auto-upgrade (it outlives many builds): the
# deployment's default (workers/versioning.py), since a behavior named here makes an
# unversioned worker's tasks fail on a real server.
@workflow.defn(name=c.QUOTE_WORKFLOW.name)
class QuoteWorkflow(QuoteAcceptance, QuoteReturns):
    @workflow.init
    def __init__(self, inp: QuoteWorkflowInput) -> None:
        super().__init__(inp)
        if inp.carried is not None:
            return  # a continued run: the state came whole from the previous one
        # Recorded here, not in run(): an update can arrive in the very first task.
        policy = inp.policy
        start = inp.requested_at or workflow.now()
        self.s.deadlines.respond_by = start + timedelta(hours=policy.response_hours)
        remind_at = self.s.deadlines.respond_by - timedelta(hours=policy.reminder_hours_before)
        self.s.deadlines.remind_at = remind_at if remind_at > workflow.now() else None
        self.s.waiting_for = "the vendor to accept or reject"
        self._record("requested", "buyer", inp.note)

    @workflow.run
    async def run(self, inp: QuoteWorkflowInput) -> QuoteOutcome:
        if inp.carried is None:
            await self._publish("requested", first=True)
            self.s.started = True

        if self.s.status == "REQUESTED":
            await self._vendor_phase()
        if self.s.status == "ACCEPTED":
            await self._payment_phase()
        if self.s.status == "PAID":
            await self._shipping_phase()
        if self.s.status == "SHIPPED":
            await self._delivery_phase()
        if self.s.status == "DELIVERED":
            self.s.waiting_for = "the ledger"
            await self._steps.run(c.POST_SALE_TO_LEDGER, PostSaleInput(quote_id=inp.quote_id))
            self._wait_for(None)
            self._record("completed", "system", status="COMPLETED")
            await self._publish("completed")
            await self._return_window()
        await self._watch_late_payment()
        self._wait_for(None)
        await self._settle()
        if self.s.status == "REFUND_HELD":
            await self._wait_out_refund_hold()
            await self._settle()
        return QuoteOutcome(status=self.s.status, total=self._total)

    # --- phases ------------------------------------------------------------------

    async def _payment_phase(self) -> None:
        if self._lean:
            # Beside the payment loop, ending when the quote leaves ACCEPTED (a continued
            # run starts it again from the carried state).
            reminder = (
                asyncio.create_task(self._remind_to_pay())
                if self._steps.patched(PAYMENT_REMINDER)
                else None
            )
            await self._payment_phase_polled_by_retries()
            if reminder is not None:
                await reminder
            return
        poll = float(self._in.policy.poll_seconds)
        while self.s.status == "ACCEPTED":
            if self.s.hold_reason is not None:
                await self._wait_out_payment_hold()
                continue
            outcome = await self._wait_in("ACCEPTED", "pay_by", poll)
            self.s.payment_nudged = False
            if outcome == "moved":
                return
            if self.s.payment is not None:
                if await self._apply_payment_check() or self.s.status != "ACCEPTED":
                    continue
            if outcome == "deadline" and self.s.status == "ACCEPTED":
                await self._expire_payment_window()

    async def _payment_phase_polled_by_retries(self) -> None:
        """0.2.0: wait for the payment with a Khipu poll that retries inside Temporal
        (see QuoteWorkflowBase._poll_payment); a webhook nudge checks at once."""
        while self.s.status == "ACCEPTED":
            await self._continue_as_new_if_due()
            if self.s.hold_reason is not None:
                await self._wait_out_payment_hold()
                continue
            until = self.s.deadlines.pay_by
            assert until is not None
            if workflow.now() >= until:
                await self._close_payment_window()
                continue
            if self.s.payment is None:
                # No payment yet: only a deadline, a payment or a state change matter.
                self.s.deadline_moved = False
                try:
                    await workflow.wait_condition(
                        lambda: (
                            self.s.status != "ACCEPTED"
                            or self.s.payment is not None
                            or self.s.deadline_moved
                        ),
                        timeout=(until - workflow.now()).total_seconds(),
                        timeout_summary="pay_by",
                    )
                except TimeoutError:
                    pass
                continue
            self.s.deadline_moved = False
            outcome = await self._poll_payment(
                until,
                wait_while=["pending"],
                keep_waiting=lambda: self.s.status == "ACCEPTED" and not self.s.deadline_moved,
            )
            if isinstance(outcome, PaymentCheck):
                await self._apply_check(outcome)
            elif outcome == "nudged":
                self.s.payment_nudged = False
                await self._apply_payment_check()

    async def _wait_out_payment_hold(self) -> None:
        """Held for an operator: no deadline, no polling, until cancelled or released by
        recheck_payment (then the payment loop goes on from the new state)."""
        await workflow.wait_condition(
            lambda: self.s.status != "ACCEPTED" or self.s.hold_reason is None
        )

    async def _remind_to_pay(self) -> None:
        """Mail the buyer once before the payment window closes, while unpaid: one timer
        to `quote_rules.payment_reminder_at`, started again only when the window moves
        (extended, held, reopened). The mail goes out in the background like every other,
        so a continue-as-new or the run's end waits for it (`_settle`)."""
        while self.s.status == "ACCEPTED" and not rules.reminded_to_pay(self.s):
            remind_at = rules.payment_reminder_at(self.s)
            if remind_at is not None and remind_at <= workflow.now():
                self.s.deadlines.remind_at = None
                self._record(rules.PAYMENT_REMINDER_SENT, "system", "the buyer was reminded to pay")
                self._pending.append(asyncio.create_task(self._publish("payment_reminder")))
                return
            self.s.deadlines.remind_at = remind_at
            pay_by = self.s.deadlines.pay_by
            try:
                await workflow.wait_condition(
                    lambda pay_by=pay_by: (  # type: ignore[misc]
                        self.s.status != "ACCEPTED" or self.s.deadlines.pay_by != pay_by
                    ),
                    timeout=None if remind_at is None else (remind_at - workflow.now()),
                    timeout_summary="payment reminder",
                )
            except TimeoutError:
                pass
        self.s.deadlines.remind_at = None

    async def _close_payment_window(self) -> None:
        """0.2.0, the window's end: read the Khipu payment back, then expire (or pay)."""
        if self.s.payment is not None:
            if await self._apply_payment_check() or self.s.status != "ACCEPTED":
                return
        await self._expire_payment_window()

    async def _expire_payment_window(self) -> None:
        """The window's end, the payment (if any) just read back and still not paid:
        delete it at Khipu, read it back once more, expire (or pay)."""
        if self.s.payment is not None:
            await self._delete_payment()
            # Paid in the last moment between the check and the delete? Only a payment
            # is worth acting on here: a deleted one reads back as "gone", which at the
            # window end means expired, not held.
            last = await self._check_payment()
            if self.s.status != "ACCEPTED":
                return
            if last.verdict == "paid":
                await self._mark_paid()
                return
        self._wait_for(None)
        self._record(
            "payment_expired",
            "system",
            "the payment window closed without a payment",
            status="PAYMENT_EXPIRED",
        )
        await self._publish("payment_expired")

    async def _apply_payment_check(self) -> bool:
        """Read the payment back from Khipu; True when the quote moved on or was held."""
        return await self._apply_check(await self._check_payment())

    async def _apply_check(self, check: PaymentCheck) -> bool:
        if self.s.status != "ACCEPTED":
            return True
        if check.verdict == "paid":
            await self._mark_paid()
            return True
        if check.verdict in ("mismatch", "rejected", "refunded", "gone"):
            self.s.hold_verdict = check.verdict
            self.s.hold_reason = check.reason or f"Khipu reports the payment as {check.verdict}"
            self.s.deadlines.pay_by = None
            self.s.waiting_for = "an operator (payment held)"
            self._record(
                "payment_held", "system", self.s.hold_reason, data={"verdict": check.verdict}
            )
            await self._publish("payment_held")
            return True
        return False

    async def _mark_paid(self) -> None:
        self.s.deadlines.ship_by = workflow.now() + timedelta(days=self._in.policy.ship_days)
        self.s.waiting_for = "the vendor to ship"
        self._record(
            "paid", "buyer", f"paid {format_clp(self._total)} through Khipu", status="PAID"
        )
        await self._publish("paid")

    async def _shipping_phase(self) -> None:
        if await self._wait_in("PAID", "ship_by") == "deadline":
            self.s.ship_overdue = True
            self.s.deadlines.ship_by = None
            self.s.waiting_for = "the vendor to ship (overdue: the buyer may cancel with refund)"
            self._record("ship_overdue", "system", "the vendor missed the ship-by date")
            await self._publish("ship_overdue")
            await workflow.wait_condition(lambda: self.s.status != "PAID")

    async def _delivery_phase(self) -> None:
        if await self._wait_in("SHIPPED", "auto_confirm_at") == "deadline":
            self._deliver("system", "delivery confirmed automatically")
            await self._publish(None)

    async def _watch_late_payment(self) -> None:
        """A quote that ended with a Khipu payment out there refunds a late payment."""
        if self.s.payment is None or self.s.status not in (
            "CANCELLED",
            "PAYMENT_EXPIRED",
            "EXPIRED",
        ):
            return
        if self.s.refunded or self.s.refunding:
            return
        if self._lean:
            await self._watch_late_payment_polled_by_retries()
            return
        watch_until = workflow.now() + timedelta(hours=self._in.policy.late_payment_watch_hours)
        while not self.s.refunded:
            if await self._refund_if_paid_late():
                return
            remaining = (watch_until - workflow.now()).total_seconds()
            if remaining <= 0:
                return
            self.s.payment_nudged = False
            try:
                await workflow.wait_condition(
                    lambda: self.s.payment_nudged,
                    timeout=min(remaining, float(self._in.policy.poll_seconds) * 60),
                    timeout_summary="late payment watch",
                )
            except TimeoutError:
                pass

    async def _watch_late_payment_polled_by_retries(self) -> None:
        if self.s.late_watch_until is None:
            hours = self._in.policy.late_payment_watch_hours
            self.s.late_watch_until = workflow.now() + timedelta(hours=hours)
        if await self._refund_if_paid_late():
            return
        while workflow.now() < self.s.late_watch_until:
            await self._continue_as_new_if_due()
            outcome = await self._poll_payment(
                self.s.late_watch_until,
                wait_while=["pending", "mismatch", "rejected", "refunded", "gone"],
                keep_waiting=lambda: True,
            )
            if isinstance(outcome, PaymentCheck):
                await self._refund_if_paid_late(outcome)
                return
            if outcome == "nudged":
                self.s.payment_nudged = False
                if await self._refund_if_paid_late():
                    return

    async def _refund_if_paid_late(self, check: PaymentCheck | None = None) -> bool:
        if check is None:
            check = await self._check_payment()
        if check.verdict != "paid":
            return False
        amount = await self._refund_or_hold(
            f"payment received after the quote was {self.s.status}",
            post_to_ledger=False,
            then_status=self.s.status,
            done_kind="late_payment_refunded",
        )
        if amount is None:
            return True  # held for an operator; the run waits for the decision
        self._record(
            "late_payment_refunded",
            "system",
            f"a payment of {format_clp(amount)} arrived after the quote ended and was refunded",
        )
        await self._publish("refunded")
        return True

    def _deliver(self, actor: Actor, message: str) -> None:
        self.s.deadlines.auto_confirm_at = None
        self.s.waiting_for = None
        self._record("delivered", actor, message, status="DELIVERED")

    # --- updates -----------------------------------------------------------------

    @workflow.update
    async def cancel(self, inp: CancelInput) -> QuoteState:
        self._refuse_unless(
            self.s.status not in FINAL_STATUSES
            and self.s.status not in ("DELIVERED", *RESOLVED_BY_A_PERSON)
            and inp.expected_status in (None, self.s.status),
            f"the quote changed meanwhile: it is now {self.s.status}",
        )
        was = self.s.status
        self.s.reason = inp.reason or None
        self.s.hold_reason = None  # the hold ends with the quote (its timeline keeps it)
        self.s.waiting_for = None
        self.s.deadlines = self.s.deadlines.model_copy(
            update={"respond_by": None, "remind_at": None, "pay_by": None, "ship_by": None}
        )
        if was in PAID_STATUSES or self.s.hold_verdict == "mismatch":
            # Mark the state first so a racing update is refused, then refund.
            self.s.refunding = True
            self._record("cancelling", inp.actor, inp.reason, status="CANCELLED")
            amount = await self._refund_or_hold(
                inp.reason or "cancelled",
                post_to_ledger=was in PAID_STATUSES,
                then_status="REFUNDED",
            )
            if amount is None:
                return self._snapshot()  # REFUND_HELD: an operator retries or records it
            self._record("refunded", "system", f"refunded {format_clp(amount)}", status="REFUNDED")
            return await self._published("refunded")
        self._record("cancelled", inp.actor, inp.reason, status="CANCELLED")
        await self._publish("cancelled")
        if self.s.payment is not None:
            if self._lean:
                # Nobody waits for the deletion (a late payment is refunded anyway), so
                # a Khipu outage does not hold the buyer's request.
                self._pending.append(asyncio.create_task(self._delete_payment()))
            else:
                await self._delete_payment()
        return self._snapshot()

    @cancel.validator
    def validate_cancel(self, inp: CancelInput) -> None:
        self._refuse(rules.cancel(self.s, inp))

    @workflow.update
    async def start_payment(self, inp: StartPaymentInput) -> StartPaymentResult:
        self._refuse_unless(
            self.s.status == "ACCEPTED" and self.s.hold_reason is None,
            rules.PAYMENT_HELD if self.s.hold_reason else rules.ONLY_ACCEPTED_PAID,
        )
        if self.s.payment is None and not self.s.payment_creating:
            self.s.payment_creating = True
            try:
                assert self.s.deadlines.pay_by is not None
                # Idempotent by quote: a call that timed out and is tried again gets
                # the same Khipu payment.
                link = await self._steps.run(
                    c.CREATE_KHIPU_PAYMENT,
                    CreatePaymentInput(
                        quote_id=self._in.quote_id,
                        workflow_id=workflow.info().workflow_id,
                        quote_number=self._in.number,
                        vendor_name=self._in.vendor_name,
                        amount=self._total,
                        currency=self._in.currency,
                        expires_at=self.s.deadlines.pay_by,
                        payer_email=inp.payer_email or self._in.buyer_email,
                        buyer_id=self._in.buyer_id,
                    ),
                    timeout=timedelta(minutes=1),
                    within=REQUEST_PATH if self._lean else None,
                )
                assert link is not None
                self.s.payment = link
                self.s.payment_started_at = workflow.now()
                self.s.deadline_moved = True  # start polling Khipu now
                self._record(
                    "payment_started",
                    "buyer",
                    "Khipu payment created",
                    data={"khipu_payment_id": link.khipu_payment_id},
                )
                await self._publish(None)
            finally:
                self.s.payment_creating = False
        # A second caller while the first creates waits for that one payment, or for the
        # first to fail: then it fails too instead of waiting forever (which would also
        # keep the workflow from ever finishing its handlers).
        await workflow.wait_condition(
            lambda: self.s.payment is not None or not self.s.payment_creating
        )
        if self.s.payment is None:
            raise ApplicationError(
                "the Khipu payment could not be created; try again",
                type="PaymentNotCreated",
                non_retryable=True,
            )
        return StartPaymentResult(payment_url=self.s.payment.payment_url)

    @start_payment.validator
    def validate_start_payment(self, inp: StartPaymentInput) -> None:
        del inp
        self._refuse(rules.start_payment(self.s))

    @workflow.update
    async def mark_shipped(self, inp: MarkShippedInput) -> QuoteState:
        self._refuse_unless(self.s.status == "PAID", rules.ONLY_PAID_SHIPPED)
        self.s.carrier, self.s.tracking = inp.carrier, inp.tracking
        self.s.deadlines.ship_by = None
        self.s.deadlines.auto_confirm_at = workflow.now() + timedelta(
            days=self._in.policy.auto_confirm_days
        )
        self.s.waiting_for = "the buyer to confirm delivery"
        self.s.ship_overdue = False
        self._record(
            "shipped",
            "vendor",
            f"{inp.carrier} {inp.tracking}",
            status="SHIPPED",
            data={"carrier": inp.carrier, "tracking": inp.tracking},
        )
        return await self._published("shipped")

    @mark_shipped.validator
    def validate_mark_shipped(self, inp: MarkShippedInput) -> None:
        del inp
        self._refuse(rules.mark_shipped(self.s))

    @workflow.update
    async def confirm_delivery(self, inp: ConfirmDeliveryInput) -> QuoteState:
        self._refuse_unless(self.s.status == "SHIPPED", rules.NOT_SHIPPED)
        self._deliver(inp.actor, "delivery confirmed")
        return await self._published(None)

    @confirm_delivery.validator
    def validate_confirm_delivery(self, inp: ConfirmDeliveryInput) -> None:
        del inp
        self._refuse(rules.confirm_delivery(self.s))

    @workflow.update
    async def recheck_payment(self, inp: RecheckPaymentInput) -> QuoteState:
        """Read a held payment back from Khipu: paid → PAID; still in progress → the
        buyer gets a fresh payment window; anything else stays held with the new reason."""
        self._refuse_unless(
            self.s.status == "ACCEPTED" and self.s.hold_reason is not None,
            rules.NOT_HELD,
        )
        self._refuse_unless(not self.s.rechecking, "the payment is being checked already")
        self.s.rechecking = True
        try:
            check = await self._check_payment(within=REQUEST_PATH if self._lean else None)
        finally:
            self.s.rechecking = False
        if self.s.status != "ACCEPTED" or self.s.hold_reason is None:
            return self._snapshot()  # cancelled while Khipu answered
        if check.verdict == "paid":
            self._release_hold(inp, "Khipu now reports the payment as paid")
            await self._mark_paid()
        elif check.verdict == "pending":
            self.s.deadlines.pay_by = workflow.now() + timedelta(
                hours=self._in.policy.payment_hours
            )
            # A fresh window polls like a fresh payment (often at first).
            self.s.payment_started_at = workflow.now()
            self.s.deadline_moved = True
            self._release_hold(inp, "Khipu reports the payment in progress; the window reopens")
            self._wait_for("the buyer to pay")
            await self._publish(None)
        else:
            self.s.hold_verdict = check.verdict
            self.s.hold_reason = check.reason or f"Khipu reports the payment as {check.verdict}"
            self._record(
                "payment_recheck",
                inp.actor,
                f"still held: {self.s.hold_reason}",
                data={"verdict": check.verdict},
            )
            await self._publish(None)
        return self._snapshot()

    @recheck_payment.validator
    def validate_recheck_payment(self, inp: RecheckPaymentInput) -> None:
        del inp
        self._refuse(rules.recheck_payment(self.s))

    @workflow.update(name=c.RETRY_NOW.name)
    async def retry_now(self, inp: RetryNowInput) -> QuoteState:
        """Cut the backoff of the step the quote waits on (a Khipu poll, a projection, a
        mail): it is restarted now. Recorded with the operator in the timeline (projected
        with the next transition, since the projection may be the step that fails)."""
        self._refuse(rules.retry_now(self.s))
        step = self.s.current_step
        self.s.retry_requests += 1
        if step == c.POLL_KHIPU_PAYMENT.name:
            self.s.payment_nudged = True  # the poller restarts like after a webhook
        self._record(
            "operator_retry",
            inp.actor,
            inp.reason or f"retry {step} now",
            data={"step": step, "by_user": str(inp.by_user) if inp.by_user else None},
        )
        return self._snapshot()

    @retry_now.validator
    def validate_retry_now(self, inp: RetryNowInput) -> None:
        del inp
        self._refuse(rules.retry_now(self.s))

    def _release_hold(self, inp: RecheckPaymentInput, message: str) -> None:
        self.s.hold_reason = None
        self.s.hold_verdict = None
        self._record("payment_released", inp.actor, message)

    # --- signal and query ----------------------------------------------------------

    @workflow.signal(name=c.PAYMENT_NOTIFIED.name)
    def payment_notified(self, notice: PaymentNotified) -> None:
        if self.s.payment and notice.khipu_payment_id == self.s.payment.khipu_payment_id:
            self.s.payment_nudged = True

    @workflow.query(name=c.QUOTE_STATE.name)
    def state(self) -> QuoteState:
        return self._snapshot()
