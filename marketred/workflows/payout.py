"""Payout workflows (design.md §5). Deterministic: temporalio, stdlib and schemas only.

`PayoutWorkflow` is one payout run (schedule, API, CLI): per vendor with unpaid ledger
rows it asks `create_vendor_payout` for a PENDING_APPROVAL payout (idempotent by the
payout's workflow id, derived from this run's id) and starts that payout's
`VendorPayoutWorkflow`, which outlives the run (parent close policy ABANDON).

`VendorPayoutWorkflow` waits for an operator's `approve` or `reject` update, then
transfers through the PayoutProvider (idempotency key = payout id), marks PAID (with the
ledger rows) and mails the vendor its statement.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from marketred.schemas.payouts import (
        ApprovePayoutInput,
        CreateVendorPayoutInput,
        CreateVendorPayoutResult,
        MarkPayoutFailedInput,
        MarkPayoutPaidInput,
        PayoutDecisionResult,
        PayoutIdInput,
        PayoutRunInput,
        PayoutRunResult,
        PayoutStatus,
        PayoutSummary,
        RecordApprovalInput,
        RecordRejectionInput,
        RejectPayoutInput,
        StatementResult,
        TransferReceipt,
        VendorIdList,
        VendorPayoutInput,
        VendorPayoutResult,
        VendorPayoutState,
    )

T = TypeVar("T")


async def db_step(activity: str, arg: Any, result_type: type[T]) -> T:
    """A database step: quick, idempotent, retried until the database answers."""
    args = [] if arg is None else [arg]
    result: T = await workflow.execute_activity(
        activity,
        args=args,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=30),
            non_retryable_error_types=["Conflict", "InvalidInput"],
        ),
    )
    return result


def payout_workflow_id(vendor_id: str, run_workflow_id: str) -> str:
    """Stable per (run, vendor), short enough for the column whatever the run's id."""
    digest = hashlib.sha256(run_workflow_id.encode()).hexdigest()[:16]
    return f"payout-{vendor_id}-{digest}"


@workflow.defn(name="PayoutWorkflow")
class PayoutWorkflow:
    @workflow.run
    async def run(self, inp: PayoutRunInput) -> PayoutRunResult:
        run_id = workflow.info().workflow_id
        vendors = await db_step("list_vendors_to_pay", None, VendorIdList)
        created: list[PayoutSummary] = []
        for vendor_id in vendors.vendor_ids:
            payout_wf_id = payout_workflow_id(str(vendor_id), run_id)
            made = await db_step(
                "create_vendor_payout",
                CreateVendorPayoutInput(vendor_id=vendor_id, workflow_id=payout_wf_id),
                CreateVendorPayoutResult,
            )
            if made.payout is None:
                continue
            await workflow.start_child_workflow(
                VendorPayoutWorkflow.run,
                VendorPayoutInput(payout_id=made.payout.payout_id),
                id=payout_wf_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=(
                    f"Payout {made.payout.vendor_slug}: net {made.payout.net} CLP "
                    f"({made.payout.items} items)"
                ),
            )
            created.append(made.payout)
        workflow.logger.info("payout run %s (%s): %d payouts", run_id, inp.trigger, len(created))
        return PayoutRunResult(workflow_id=run_id, payouts=created)


@workflow.defn(name="VendorPayoutWorkflow")
class VendorPayoutWorkflow:
    @workflow.init
    def __init__(self, inp: VendorPayoutInput) -> None:
        # Set before any update can run, so a decision always knows its payout.
        self._payout_id: uuid.UUID = inp.payout_id
        self._status: PayoutStatus = "PENDING_APPROVAL"
        self._deciding = False
        self._reason: str | None = None

    @workflow.run
    async def run(self, inp: VendorPayoutInput) -> VendorPayoutResult:
        await workflow.wait_condition(
            lambda: self._status != "PENDING_APPROVAL" and not self._deciding
        )
        if self._status == "REJECTED":
            await workflow.wait_condition(workflow.all_handlers_finished)
            return VendorPayoutResult(
                payout_id=inp.payout_id, status="REJECTED", reason=self._reason
            )
        try:
            receipt = await workflow.execute_activity(
                "transfer_payout",
                PayoutIdInput(payout_id=inp.payout_id),
                result_type=TransferReceipt,
                start_to_close_timeout=timedelta(minutes=10),
                # A dead worker is noticed by its missing heartbeats, not after 10 minutes.
                heartbeat_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=2),
                    maximum_interval=timedelta(minutes=5),
                    maximum_attempts=20,
                    non_retryable_error_types=["Conflict", "NotFound"],
                ),
            )
        except ActivityError as exc:
            reason = str(exc.cause or exc)
            await db_step(
                "mark_payout_failed",
                MarkPayoutFailedInput(payout_id=inp.payout_id, reason=reason),
                PayoutDecisionResult,
            )
            self._status = "FAILED"
            return VendorPayoutResult(payout_id=inp.payout_id, status="FAILED", reason=reason)
        await db_step(
            "mark_payout_paid",
            MarkPayoutPaidInput(payout_id=inp.payout_id, provider_ref=receipt.provider_ref),
            PayoutDecisionResult,
        )
        self._status = "PAID"
        try:
            await workflow.execute_activity(
                "send_payout_statement",
                PayoutIdInput(payout_id=inp.payout_id),
                result_type=StatementResult,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(
                    maximum_attempts=10, maximum_interval=timedelta(minutes=5)
                ),
            )
        except ActivityError:
            # The money moved and the ledger is posted; a lost mail must not undo that.
            workflow.logger.warning("payout %s: statement mail could not be sent", inp.payout_id)
        return VendorPayoutResult(
            payout_id=inp.payout_id, status="PAID", provider_ref=receipt.provider_ref
        )

    @workflow.query
    def state(self) -> VendorPayoutState:
        return VendorPayoutState(payout_id=self._payout_id, status=self._status)

    def _refuse_unless_pending(self) -> None:
        if self._deciding or self._status != "PENDING_APPROVAL":
            raise ApplicationError(
                f"payout is {self._status.lower().replace('_', ' ')}; no decision possible",
                type="PayoutDecided",
            )

    async def _decide(
        self, activity: str, arg: object, decided: PayoutStatus
    ) -> PayoutDecisionResult:
        self._deciding = True  # a second update now fails its validator at once
        try:
            result = await db_step(activity, arg, PayoutDecisionResult)
        except ActivityError as exc:
            raise ApplicationError(str(exc.cause or exc), type="PayoutDecisionFailed") from exc
        finally:
            self._deciding = False
        self._status = decided
        return result

    @workflow.update
    async def approve(self, inp: ApprovePayoutInput) -> PayoutDecisionResult:
        return await self._decide(
            "record_payout_approval",
            RecordApprovalInput(payout_id=self._payout_id, approved_by=inp.approved_by),
            "APPROVED",
        )

    @approve.validator
    def _validate_approve(self, inp: ApprovePayoutInput) -> None:
        del inp
        self._refuse_unless_pending()

    @workflow.update
    async def reject(self, inp: RejectPayoutInput) -> PayoutDecisionResult:
        self._reason = inp.reason
        return await self._decide(
            "record_payout_rejection",
            RecordRejectionInput(payout_id=self._payout_id, reason=inp.reason),
            "REJECTED",
        )

    @reject.validator
    def _validate_reject(self, inp: RejectPayoutInput) -> None:
        del inp
        self._refuse_unless_pending()
