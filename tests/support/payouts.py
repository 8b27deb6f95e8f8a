"""A worker running the ledger and payout workflows/activities against committed data, and
the API beside it (fixtures in tests/payouts/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from marketred.settings import Settings
from marketred.store.session import create_session_factory
from marketred.workers.deps import WorkerDeps
from marketred.workers.registry import ledger_and_payout_activities
from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow
from tests.support.api import app_client
from tests.support.temporal import unique_task_queue


@dataclass
class PayoutStack:
    client: Client
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    mail_folder: Path


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


@asynccontextmanager
async def http_api(stack: PayoutStack, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The API and pages over ASGI, on the stack's settings and worker's Temporal client."""
    async with httpx.AsyncClient() as http:
        async with app_client(stack.settings, engine, stack.sessions, http, stack.client) as c:
            yield c


async def run_and_pay(
    http: httpx.AsyncClient, stack: PayoutStack, headers: dict[str, str], vendor_id: str
) -> dict[str, object]:
    """Run payouts over the API, approve the vendor's, wait until its workflow is done
    (PAID, mailed); the payout as the API shows it then."""
    run = await http.post("/api/v1/payouts/run", headers=headers)
    assert run.status_code == 201, run.text
    [payout] = [p for p in run.json()["payouts"] if p["vendor_id"] == vendor_id]
    approved = await http.post(f"/api/v1/payouts/{payout['payout_id']}/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    done = await stack.client.get_workflow_handle(payout["workflow_id"]).result()
    assert done["status"] == "PAID"
    detail = await http.get(f"/api/v1/payouts/{payout['payout_id']}", headers=headers)
    result: dict[str, object] = detail.json()
    return result


def run_id() -> str:
    return f"payout-run-test-{uuid.uuid4()}"
