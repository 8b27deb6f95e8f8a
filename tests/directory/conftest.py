"""The directory sandbox app, in memory, for tests; and the indexer pipeline (time-skipping
Temporal, the real push activity, the sandbox's indexer) for the indexer tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.activities.indexer import IndexerActivities
from marketred.integrations.directory import DirectoryIndexerClient
from marketred.sandbox.directory.app import create_app
from marketred.schemas.directory import IndexProductResult, indexer_workflow_id
from marketred.services.directory import indexer as directory_indexer
from marketred.store.session import create_session_factory
from marketred.workflows.indexer import IndexProductWorkflow
from tests.support.temporal import unique_task_queue

SECRET = "test-directory-secret"
INDEXER_SECRET = "test-indexer-secret"
CLIENT_ID = "marketred"
CLIENT_SECRET = "test-oidc-client-secret"
ISSUER = "http://directory.test"
PUBLIC_URL = "http://marketred.test"


def build_sandbox(state_path: Path | None = None, http: httpx.AsyncClient | None = None) -> FastAPI:
    return create_app(
        issuer=ISSUER,
        marketplace_url="http://marketred.test",
        secret=SECRET,
        indexer_secret=INDEXER_SECRET,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        state_path=state_path,
        http=http,
    )


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER)


@pytest.fixture
def sandbox_app() -> FastAPI:
    return build_sandbox()


@pytest.fixture
async def sandbox(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(sandbox_app) as c:
        yield c


@dataclass
class Pipeline:
    env: WorkflowEnvironment
    task_queue: str
    sandbox: httpx.AsyncClient

    async def changed(self, product_id: uuid.UUID) -> None:
        assert await directory_indexer.product_changed(
            self.env.client, product_id, task_queue=self.task_queue
        )

    def handle(self, product_id: uuid.UUID) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(indexer_workflow_id(product_id))

    async def finished(self, product_id: uuid.UUID) -> IndexProductResult:
        # Handles from get_workflow_handle do not unlock time skipping by themselves.
        async with self.env.time_skipping_unlocked():  # type: ignore[attr-defined]
            result = await self.handle(product_id).result()
        return IndexProductResult.model_validate(result)

    async def indexed(self) -> dict[str, dict[str, Any]]:
        items = (await self.sandbox.get("/indexer/products")).json()["items"]
        return {item["id"]: item for item in items}

    async def log(self, product_id: uuid.UUID) -> list[dict[str, Any]]:
        items = (await self.sandbox.get("/indexer/log")).json()["items"]
        return [e for e in reversed(items) if e["product_id"] == str(product_id)]


@pytest.fixture
def committed(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Real commits: the activity reads on its own connections while the test writes."""
    return create_session_factory(engine)


@pytest.fixture
async def pipeline(
    time_skipping_env: WorkflowEnvironment, committed: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Pipeline]:
    sandbox_app: FastAPI = build_sandbox()
    task_queue = unique_task_queue()
    async with asgi_client(sandbox_app) as sandbox:
        activities = IndexerActivities(
            sessions=committed,
            indexer=DirectoryIndexerClient(
                sandbox, "http://directory.test/indexer/products", INDEXER_SECRET
            ),
            public_url=PUBLIC_URL,
        )
        async with Worker(
            time_skipping_env.client,
            task_queue=task_queue,
            workflows=[IndexProductWorkflow],
            activities=[activities.push_product],
        ):
            yield Pipeline(time_skipping_env, task_queue, sandbox)
