"""Payout commands that go through Temporal: the weekly schedule, a run on demand, the
operator's decisions (approve / reject a pending payout; confirm / release a transfer
that waits for a person; retry one held for missing bank details), shared by the API,
the web console and the CLI, and the nudge to payouts waiting for bank details.

A decision carries an update id when the caller has one (the API's Idempotency-Key, the
web form's nonce): the same request sent twice is then the same Temporal update, which
runs once and answers both."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from marketred.logs import get_logger
from marketred.schemas.payouts import (
    PAYOUT_RUN_WORKFLOW,
    ApprovePayoutInput,
    ConfirmTransferInput,
    PayoutDecisionResult,
    PayoutRunInput,
    PayoutRunResult,
    RejectPayoutInput,
    ReleaseTransferInput,
    RetryTransferInput,
    VendorPayoutState,
)
from marketred.services import workflow_errors
from marketred.services.errors import Conflict, NotFound
from marketred.services.operations.idempotency import update_id
from marketred.settings import Settings
from marketred.store.repositories import payouts as repo

SCHEDULE_ID = "marketred-payouts"
log = get_logger(__name__)


def payout_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PAYOUT_RUN_WORKFLOW,
            PayoutRunInput(trigger="schedule", transfer_attempts=settings.payout_transfer_attempts),
            id="payout-run-scheduled",  # Temporal appends the scheduled time
            task_queue=settings.temporal_task_queue,
        ),
        spec=ScheduleSpec(
            cron_expressions=[settings.payout_cron], time_zone_name=settings.payout_timezone
        ),
        # A run still going when the next one is due: skip, never run two at once.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_payout_schedule(
    client: Client, settings: Settings, schedule_id: str = SCHEDULE_ID
) -> ScheduleHandle:
    """Create the payout schedule, or bring an existing one to the configured timing and
    action (worker start-up: changing MARKETRED_PAYOUT_CRON takes effect on the next start).

    Only what our settings own is written: the action, the cron and time zone, the
    overlap policy. What operators change in the Temporal UI or CLI stays as they left
    it: paused or not and its note, limited actions, catch-up window, pause-on-failure,
    and the spec's skip, jitter and start/end bounds. Every worker start runs this, so
    replacing the whole schedule would un-pause a schedule an operator paused."""
    schedule = payout_schedule(settings)
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)

        def to_configured(current: ScheduleUpdateInput) -> ScheduleUpdate:
            existing = current.description.schedule
            ours = schedule.spec
            existing.spec = ScheduleSpec(
                cron_expressions=ours.cron_expressions,
                time_zone_name=ours.time_zone_name,
                skip=existing.spec.skip,
                start_at=existing.spec.start_at,
                end_at=existing.spec.end_at,
                jitter=existing.spec.jitter,
            )
            existing.action = schedule.action
            existing.policy.overlap = schedule.policy.overlap
            return ScheduleUpdate(schedule=existing)

        await handle.update(to_configured)
        return handle


def run_workflow_id(idempotency_key: str | None) -> str:
    if idempotency_key:
        return "payout-run-manual-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"payout-run-manual-{uuid.uuid4()}"


async def run_payouts(
    client: Client,
    settings: Settings,
    *,
    requested_by: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> PayoutRunResult:
    """Start a payout run and wait for it (it only creates payouts: seconds). The same
    idempotency key returns the same run's result instead of running again."""
    workflow_id = run_workflow_id(idempotency_key)
    try:
        handle = await client.start_workflow(
            PAYOUT_RUN_WORKFLOW,
            PayoutRunInput(
                trigger="manual",
                requested_by=requested_by,
                transfer_attempts=settings.payout_transfer_attempts,
            ),
            id=workflow_id,
            task_queue=settings.temporal_task_queue,
            result_type=PayoutRunResult,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary="Payout run (on demand)",
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(workflow_id, result_type=PayoutRunResult)
    result: PayoutRunResult = await handle.result()
    return result


async def _update(
    client: Client,
    session: AsyncSession,
    payout_id: uuid.UUID,
    update: str,
    arg: object,
    *,
    allowed: tuple[str, ...],
    key: str | None = None,
    result_type: type[PayoutDecisionResult | VendorPayoutState] = PayoutDecisionResult,
) -> PayoutDecisionResult:
    payout = await repo.get(session, payout_id)
    if payout is None:
        raise NotFound("payout not found")
    if key is None and payout.status not in allowed:
        # Without a request key nothing can be a repeat: refuse at once. With one, the
        # workflow answers a repeat with the first answer (same update id).
        raise Conflict(f"payout is {payout.status}; not possible now")
    handle = client.get_workflow_handle(payout.workflow_id)
    try:
        result = await handle.execute_update(
            update, arg, id=update_id(update, payout_id, key), result_type=result_type
        )
    except WorkflowUpdateFailedError as exc:
        raise workflow_errors.update_failed(exc) from exc
    except RPCError as exc:
        closed = f"the payout's workflow is not running; not possible now ({exc})"
        raise workflow_errors.engine_failed(exc, when_closed=closed) from exc
    return PayoutDecisionResult(payout_id=payout_id, status=result.status)


class _ByCommand(Protocol):
    """A decision that records who took it."""

    def __call__(self, client: Client, session: AsyncSession, payout_id: uuid.UUID,
                 by: uuid.UUID | None, key: str | None = None,
                 ) -> Awaitable[PayoutDecisionResult]: ...  # fmt: skip


class _TextCommand(Protocol):
    """A decision with a text (a reason, the bank's reference) and who took it."""

    def __call__(self, client: Client, session: AsyncSession, payout_id: uuid.UUID, text: str,
                 by: uuid.UUID | None, key: str | None = None,
                 ) -> Awaitable[PayoutDecisionResult]: ...  # fmt: skip


def _decision(
    update: str,
    allowed: tuple[str, ...],
    make: Callable[..., object],
    result_type: type[PayoutDecisionResult | VendorPayoutState] = PayoutDecisionResult,
) -> Callable[..., Awaitable[PayoutDecisionResult]]:
    """The command `(client, session, payout_id, *args, key=None)`: the workflow update
    `update` with `make(*args)`, from the statuses `allowed`."""

    async def command(client: Client, session: AsyncSession, payout_id: uuid.UUID, *args: Any,
                      key: str | None = None) -> PayoutDecisionResult:  # fmt: skip
        return await _update(
            client, session, payout_id, update, make(*args), allowed=allowed, key=key,
            result_type=result_type,
        )  # fmt: skip

    return command


approve_payout: _ByCommand = _decision(
    "approve", ("PENDING_APPROVAL",), lambda by: ApprovePayoutInput(approved_by=by)
)
reject_payout: _TextCommand = _decision(
    "reject",
    ("PENDING_APPROVAL",),
    lambda reason, by: RejectPayoutInput(reason=reason, rejected_by=by),
)
# The bank executed the transfer (reference from its statement): PAID.
confirm_transfer: _TextCommand = _decision(
    "confirm_transfer",
    ("SUBMITTED", "HELD"),
    lambda reference, by: ConfirmTransferInput(reference=reference, confirmed_by=by),
)
# The transfer was not executed: FAILED, its quotes go to the next run.
release_transfer: _TextCommand = _decision(
    "release_transfer",
    ("SUBMITTED", "HELD"),
    lambda reason, by: ReleaseTransferInput(reason=reason, released_by=by),
)
# Try a payout held for missing bank details again.
retry_transfer: _ByCommand = _decision(
    "retry_transfer",
    ("HELD",),
    lambda by: RetryTransferInput(requested_by=by),
    result_type=VendorPayoutState,
)


async def nudge_payouts_waiting_for_bank_details(
    temporal: Callable[[], Awaitable[Client]], session: AsyncSession, vendor_id: uuid.UUID
) -> int:
    """After the vendor saved a bank account: tell its payouts held for lack of one
    (signal `bank_details_added`). Best effort, never an error for the caller (the
    account is saved either way); an operator's retry does the same."""
    waiting = await repo.held_for(session, vendor_id, "missing_bank_details")
    if not waiting:
        return 0
    try:
        client = await temporal()
    except Exception as exc:
        log.warning("payouts waiting for bank details not nudged", error=str(exc))
        return 0
    nudged = 0
    for payout in waiting:
        try:
            await client.get_workflow_handle(payout.workflow_id).signal("bank_details_added")
            nudged += 1
        except RPCError as exc:
            log.warning("payout not nudged", payout=str(payout.id), error=str(exc))
    return nudged
