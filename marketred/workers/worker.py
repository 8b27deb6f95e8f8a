"""The Temporal worker process: all workflows and activities on task queue `marketred`."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from marketred import tracing
from marketred.integrations import temporal
from marketred.logs import get_logger
from marketred.services.directory import indexer as directory_indexer
from marketred.services.operations import gauges as ops_gauges
from marketred.services.payouts.commands import SCHEDULE_ID, ensure_payout_schedule
from marketred.settings import Settings
from marketred.workers import registry, versioning
from marketred.workers.activity_logging import ActivityLogging
from marketred.workers.deps import WorkerDeps
from marketred.workers.health import WorkerHealth
from marketred.workers.sdk_metrics import SdkMetrics
from marketred.workers.step_errors import StepErrors

log = get_logger(__name__)
# On shutdown, running activities get this long to finish before cancellation; deploy
# files give the process more than this before they kill it (stop_grace_period,
# terminationGracePeriodSeconds).
GRACEFUL_SHUTDOWN = timedelta(seconds=20)
# Temporal unreachable at start: try again after 1 s, doubling to this, until it answers.
CONNECT_BACKOFF_MAX_S = 30.0


def build_worker(client: Client, deps: WorkerDeps, *, task_queue: str | None = None) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or deps.settings.temporal_task_queue,
        workflows=list(registry.workflows()),
        activities=list(registry.activities(deps)),
        activity_executor=ThreadPoolExecutor(8),
        max_concurrent_activities=deps.settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=deps.settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=deps.settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        # Tracing comes from the client's interceptors (integrations/temporal.connect).
        interceptors=[ActivityLogging(), StepErrors(deps.sessions)],
        deployment_config=versioning.deployment_config(deps.settings),
    )


async def sweep_indexer_outbox(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    """Signal catalog changes still in `indexer_outbox` (the API could not, or crashed
    first), every `indexer_sweep_seconds`, until `stop` is set. Drains in batches."""
    while not stop.is_set():
        try:
            while await directory_indexer.dispatch_pending(
                sessions, client, task_queue=settings.temporal_task_queue
            ):
                if stop.is_set():
                    return
        except Exception as exc:  # the database or Temporal is away; try again next round
            log.warning("indexer outbox sweep failed", error=str(exc))
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.indexer_sweep_seconds)
        except TimeoutError:
            pass


async def refresh_ops_gauges(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    """Holds, backlogs and overdue deadlines into gauges, every `ops_gauges_seconds`."""
    while not stop.is_set():
        try:
            async with sessions() as session:
                await ops_gauges.refresh(session, client, SCHEDULE_ID)
        except Exception as exc:  # the database or Temporal is away; try again next round
            log.warning("ops gauges refresh failed", error=str(exc))
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.ops_gauges_seconds)
        except TimeoutError:
            pass


async def connect_when_reachable(
    settings: Settings, stop: asyncio.Event, *, runtime: Runtime | None = None
) -> Client | None:
    """Connect, register the search attributes and the payout schedule; while Temporal
    is unreachable (restarting, not up yet) wait and try again with back-off, one log
    line per attempt, instead of exiting with a traceback. None if told to stop first.
    A server that refuses our settings (TLS, search attributes) is not retried."""
    delay = 1.0
    while True:
        try:
            client = await temporal.connect(settings, runtime=runtime)
            await temporal.register_search_attributes(
                client, settings.temporal_namespace, settings=settings
            )
            await ensure_payout_schedule(client, settings)
            return client
        except (temporal.SearchAttributesRefused, temporal.TemporalSettingsError):
            raise
        except Exception as exc:
            log.warning(
                "temporal unreachable; retrying",
                address=settings.temporal_target(),
                in_s=delay,
                error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
            )
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return None
        except TimeoutError:
            delay = min(delay * 2, CONNECT_BACKOFF_MAX_S)


async def run_worker(settings: Settings) -> None:
    tracing.configure("worker")
    sdk_metrics = SdkMetrics() if settings.worker_health_port is not None else None
    health = await WorkerHealth.serve(
        settings.host,
        settings.worker_health_port,
        sdk_metrics=sdk_metrics,
        metrics_token=settings.metrics_token,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect_when_reachable(
        settings, stop, runtime=sdk_metrics.runtime if sdk_metrics is not None else None
    )
    if client is None:
        await health.close()
        log.info("worker stopped before Temporal answered")
        return
    health.client = client
    deps = WorkerDeps.build(settings, client)
    tracing.instrument_clients(deps.engine)
    worker = build_worker(client, deps)
    log.info("worker started", task_queue=settings.temporal_task_queue)
    async with worker:
        health.polling = True
        if settings.temporal_worker_versioning:
            # Auto-upgrade: the newest build to start takes new and running quotes.
            await versioning.make_current(client, settings)
            log.info("deployment version current", build_id=versioning.build_id())
        sweeper = asyncio.create_task(sweep_indexer_outbox(deps.sessions, client, settings, stop))
        gauges = asyncio.create_task(refresh_ops_gauges(deps.sessions, client, settings, stop))
        await stop.wait()
        health.stopping = True
        log.info("worker stopping: letting running activities finish")
        await sweeper
        await gauges
    await deps.close()
    await health.close()
    log.info("worker stopped")
