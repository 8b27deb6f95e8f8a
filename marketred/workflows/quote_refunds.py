"""Refund outcomes of the QuoteWorkflow are states, never exceptions (issue 13).

A refund Khipu refuses ("El pago ya fue rendido" once a payment is settled, which a
ship-by cancel 5+ days after payment always meets) or that cannot be confirmed after a
few rounds of retries moves the quote to REFUND_HELD with Khipu's reason: published,
mailed to operators, `QuoteStatus = "REFUND_HELD"` in the Temporal UI, and the workflow
stays open. An operator then either retries the refund at Khipu (`retry_refund`) or
records one made outside Khipu (`record_refund`: bank reference and amount). Both post
the ledger under the refund id fixed when the refund was held, so it posts once.

Histories recorded before this existed replay through the first design (the refusal
failed the update, or the whole workflow for a late payment): `REFUND_HELD_PATCH`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from marketred.schemas import temporal_contracts as c
    from marketred.schemas.ledger import PostRefundInput
    from marketred.schemas.money import format_clp
    from marketred.schemas.payments import RefundInput, RefundResult
    from marketred.schemas.quotes import (
        Actor,
        HeldRefund,
        QuoteState,
        QuoteStatus,
        RecordRefundInput,
        RetryRefundInput,
    )
    from marketred.workflows.quote_base import QuoteWorkflowBase

REFUND_HELD_PATCH = "refund-held"
REFUND_NOT_WAITING = "the quote has no held refund waiting for a decision"
# Rounds of retries (30 s, 1 min, 5 min, 15 min apart) before a refund whose outcome
# nobody could confirm goes to an operator. Khipu's refund is read back before each retry,
# so retrying never refunds twice.
REFUND_ROUNDS = 5
# The same bound in the 0.2.0 shape (activity retries backing off to 5 min): past it the
# call fails with NoAnswer and the refund is held.
REFUND_WITHIN = timedelta(minutes=20)


def why_failed(exc: ActivityError | ApplicationError) -> str:
    if isinstance(exc, ApplicationError):
        return exc.message
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause) if cause is not None else str(exc)


class QuoteRefunds(QuoteWorkflowBase):
    def _snapshot(self, *, timeline_from: int = 1) -> QuoteState:
        state = super()._snapshot(timeline_from=timeline_from)
        state.held_refund = self.s.held_refund.model_copy() if self.s.held_refund else None
        return state

    async def _refund_or_hold(
        self,
        reason: str,
        *,
        post_to_ledger: bool,
        then_status: QuoteStatus,
        done_kind: str = "refunded",
    ) -> int | None:
        """Refund the whole payment at Khipu: the amount, or None when it is now held."""
        if not self._steps.patched(REFUND_HELD_PATCH):
            # The first design: a refusal fails the update (or the run, for a late payment).
            unbounded = await self._khipu_refund(self._total, reason, bounded=False)
            return await self._book_refund(unbounded, reason, post_to_ledger=post_to_ledger)
        try:
            result = await self._khipu_refund(self._total, reason)
        except (ActivityError, ApplicationError) as exc:
            self.s.held_refund = HeldRefund(
                refund_id=workflow.uuid4().hex,
                amount=self._total,
                reason=reason,
                post_to_ledger=post_to_ledger,
                then_status=then_status,
                done_kind=done_kind,
                refusal=why_failed(exc),
            )
            await self._hold_refund()
            return None
        # Khipu refunded: from here on a failure is ours to retry, never a hold.
        return await self._book_refund(result, reason, post_to_ledger=post_to_ledger)

    async def _book_refund(self, result: RefundResult, reason: str, *, post_to_ledger: bool) -> int:
        """Khipu refunded the whole payment: keep the amount, post it to the ledger."""
        self.s.refunded = result.refunded_amount or self._total
        if post_to_ledger:
            await self._steps.run(
                c.POST_REFUND_TO_LEDGER,
                PostRefundInput(quote_id=self._in.quote_id, amount=self.s.refunded, reason=reason),
            )
        return self.s.refunded

    async def _khipu_refund(
        self, amount: int, reason: str, refund_id: str | None = None, *, bounded: bool = True
    ) -> RefundResult:
        """Refund `amount` at Khipu. Bounded (since REFUND_HELD_PATCH): past REFUND_WITHIN
        (0.2.0) or REFUND_ROUNDS rounds (before) the call fails and the refund is held."""
        assert self.s.payment is not None
        result = await self._steps.run(
            c.REFUND_KHIPU_PAYMENT,
            RefundInput(
                quote_id=self._in.quote_id,
                workflow_id=workflow.info().workflow_id,
                khipu_payment_id=self.s.payment.khipu_payment_id,
                amount=amount,
                reason=reason,
                refund_id=refund_id,
            ),
            timeout=timedelta(minutes=2),
            within=REFUND_WITHIN if self._lean and bounded else None,
            give_up_after=REFUND_ROUNDS if bounded else None,
        )
        assert result is not None
        return result

    async def _hold_refund(self) -> None:
        held = self.s.held_refund
        assert held is not None
        self.s.hold_reason = f"refund of {format_clp(held.amount)} not made: {held.refusal}"
        self.s.waiting_for = "an operator (refund held)"
        self._record(
            "refund_held",
            "system",
            self.s.hold_reason,
            status="REFUND_HELD",
            data={"amount": held.amount, "refund_id": held.refund_id},
        )
        await self._publish("refund_held")

    async def _wait_out_refund_hold(self) -> None:
        """The run does not end while a refund waits for an operator."""
        await workflow.wait_condition(
            lambda: self.s.status != "REFUND_HELD" and workflow.all_handlers_finished()
        )

    async def _refund_resolved(self, actor: Actor, message: str, data: dict[str, object]) -> None:
        held = self.s.held_refund
        assert held is not None
        if held.post_to_ledger:
            await self._steps.run(
                c.POST_REFUND_TO_LEDGER,
                PostRefundInput(
                    quote_id=self._in.quote_id,
                    amount=held.amount,
                    reason=held.reason,
                    refund_id=held.refund_id,
                ),
            )
        self.s.refunded += held.amount
        self.s.held_refund = None
        self.s.hold_reason = None
        self.s.waiting_for = None
        self._record(held.done_kind, actor, message, status=held.then_status, data=data)
        await self._publish("refunded")

    # --- operator updates -------------------------------------------------------------

    def _refuse_unless_refund_held(self) -> None:
        """The validators' check: a held refund waits and no decision on it runs."""
        self._refuse_unless(self.s.status == "REFUND_HELD", "the quote has no held refund")
        self._refuse_unless(not self.s.refund_busy, "the refund is being retried already")

    def _take_held_refund(self) -> HeldRefund:
        """The handlers' guard deciding a race: refused unless a held refund waits and no
        decision on it runs; then it is busy (the caller clears `refund_busy`)."""
        self._refuse_unless(
            self.s.status == "REFUND_HELD" and not self.s.refund_busy, REFUND_NOT_WAITING
        )
        held = self.s.held_refund
        assert held is not None
        self.s.refund_busy = True
        return held

    @workflow.update
    async def retry_refund(self, inp: RetryRefundInput) -> QuoteState:
        """Ask Khipu again (after it fixed its side, or the operator arranged it)."""
        held = self._take_held_refund()
        try:
            await self._khipu_refund(
                held.amount, held.reason, held.refund_id if held.partial else None
            )
        except (ActivityError, ApplicationError) as exc:
            held.refusal = why_failed(exc)
            self.s.refund_busy = False
            self._record("refund_retry_failed", inp.actor, held.refusal)
            await self._hold_refund()
            return self._snapshot()
        try:
            await self._refund_resolved(
                inp.actor,
                f"refunded {format_clp(held.amount)} through Khipu",
                {"amount": held.amount, "refund_id": held.refund_id, "via": "khipu"},
            )
        finally:
            self.s.refund_busy = False
        return self._snapshot()

    @retry_refund.validator
    def validate_retry_refund(self, inp: RetryRefundInput) -> None:
        del inp
        self._refuse_unless_refund_held()

    @workflow.update
    async def record_refund(self, inp: RecordRefundInput) -> QuoteState:
        """The operator refunded the buyer outside Khipu (a bank transfer)."""
        held = self._take_held_refund()
        try:
            await self._refund_resolved(
                inp.actor,
                f"refunded {format_clp(held.amount)} outside Khipu, reference {inp.reference}",
                {
                    "amount": held.amount,
                    "refund_id": held.refund_id,
                    "via": "manual",
                    "reference": inp.reference,
                },
            )
        finally:
            self.s.refund_busy = False
        return self._snapshot()

    @record_refund.validator
    def validate_record_refund(self, inp: RecordRefundInput) -> None:
        self._refuse_unless_refund_held()
        held = self.s.held_refund
        assert held is not None
        if inp.amount != held.amount or not inp.reference.strip():
            raise ApplicationError(
                f"the held refund is {format_clp(held.amount)}: record that amount"
                " with the bank's reference",
                "amount" if inp.amount != held.amount else "reference",
                type="QuoteInvalidInput",
                non_retryable=True,
            )
