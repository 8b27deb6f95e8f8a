"""A worker running the ledger and payout workflows/activities against committed data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.app import create_app
from marketred.sandbox.mailcatcher import start_catcher
from marketred.settings import Settings
from marketred.store.session import create_session_factory
from marketred.workers.deps import WorkerDeps
from marketred.workers.registry import ledger_and_payout_activities
from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow
from tests.support.api import make_resources
from tests.support.ports import free_port
from tests.support.temporal import unique_task_queue


@dataclass
class PayoutStack:
    client: Client
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    mail_folder: Path


@pytest.fixture(scope="module")
def mail_catcher(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("mail")
    port = free_port()
    controller = start_catcher(folder, "127.0.0.1", port)
    yield folder, port
    controller.stop()


@asynccontextmanager
async def payout_worker(
    client: Client,
    settings: Settings,
    engine: AsyncEngine,
    smtp_port: int,
    home: Path,
    **overrides: object,
) -> AsyncIterator[PayoutStack]:
    """The ledger and payout workflows and activities on a fresh task queue (settings
    `overrides`, e.g. payout_provider="bank_file")."""
    task_queue = unique_task_queue()
    stack_settings = settings.model_copy(
        update={
            "temporal_task_queue": task_queue,
            "smtp_url": f"smtp://127.0.0.1:{smtp_port}",
            "home": home,
            **overrides,
        }
    )
    sessions = create_session_factory(engine)
    async with httpx.AsyncClient() as http:
        deps = WorkerDeps(
            settings=stack_settings, engine=engine, sessions=sessions, http=http, temporal=client
        )
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[PayoutWorkflow, VendorPayoutWorkflow],
            activities=list(ledger_and_payout_activities(deps)),
        ):
            yield PayoutStack(client, stack_settings, sessions, home / "mail")


@pytest.fixture
async def payout_stack(
    dev_server_env: WorkflowEnvironment,
    settings: Settings,
    engine: AsyncEngine,
    mail_catcher: tuple[Path, int],
    tmp_path: Path,
) -> AsyncIterator[PayoutStack]:
    folder, port = mail_catcher
    # The dev server, not the time-skipping one: payouts have no timers to skip, and the
    # time-skipping server intermittently loses updates ("update ... not found").
    async with payout_worker(dev_server_env.client, settings, engine, port, tmp_path) as stack:
        stack.mail_folder = folder
        yield stack


@asynccontextmanager
async def http_api(stack: PayoutStack, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The API and pages over ASGI, on the stack's settings and worker's Temporal client."""
    async with httpx.AsyncClient() as http:
        resources = make_resources(stack.settings, engine, stack.sessions, http, stack.client)
        app = create_app(stack.settings, resources)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def run_id() -> str:
    return f"payout-run-test-{uuid.uuid4()}"
