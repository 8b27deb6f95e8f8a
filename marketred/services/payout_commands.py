"""Payout commands that go through Temporal: the weekly schedule, a run on demand, and
the operator's approve / reject updates (shared by the API and the CLI)."""

from __future__ import annotations

import hashlib
import uuid

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
from temporalio.service import RPCError, RPCStatusCode

from marketred.schemas.payouts import (
    PAYOUT_RUN_WORKFLOW,
    ApprovePayoutInput,
    PayoutDecisionResult,
    PayoutRunInput,
    PayoutRunResult,
    RejectPayoutInput,
)
from marketred.services.errors import Conflict, NotFound, Unavailable
from marketred.settings import Settings
from marketred.store.repositories import payouts as repo

SCHEDULE_ID = "marketred-payouts"


def payout_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PAYOUT_RUN_WORKFLOW,
            PayoutRunInput(trigger="schedule"),
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
            PayoutRunInput(trigger="manual", requested_by=requested_by),
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
    client: Client, session: AsyncSession, payout_id: uuid.UUID, update: str, arg: object
) -> PayoutDecisionResult:
    payout = await repo.get(session, payout_id)
    if payout is None:
        raise NotFound("payout not found")
    if payout.status != "PENDING_APPROVAL":
        raise Conflict(f"payout is {payout.status}; only a pending payout can be decided")
    handle = client.get_workflow_handle(payout.workflow_id)
    try:
        decided: PayoutDecisionResult = await handle.execute_update(
            update, arg, result_type=PayoutDecisionResult
        )
        return decided
    except WorkflowUpdateFailedError as exc:
        raise Conflict(str(exc.cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(f"the payout's workflow is not running yet; try again ({exc})") from exc
        raise Unavailable("the workflow engine did not answer; try again") from exc


async def approve_payout(
    client: Client, session: AsyncSession, payout_id: uuid.UUID, approved_by: uuid.UUID | None
) -> PayoutDecisionResult:
    return await _update(
        client, session, payout_id, "approve", ApprovePayoutInput(approved_by=approved_by)
    )


async def reject_payout(
    client: Client,
    session: AsyncSession,
    payout_id: uuid.UUID,
    reason: str,
    rejected_by: uuid.UUID | None,
) -> PayoutDecisionResult:
    return await _update(
        client,
        session,
        payout_id,
        "reject",
        RejectPayoutInput(reason=reason, rejected_by=rejected_by),
    )
