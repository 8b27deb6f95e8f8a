"""Directory fixtures: the sandbox app in memory, and the indexer pipeline (time-skipping
Temporal, the real push activity, the sandbox's indexer) for the indexer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.activities.indexer import IndexerActivities
from marketred.integrations.directory import DirectoryIndexerClient
from marketred.store.session import create_session_factory
from marketred.workflows.indexer import IndexProductWorkflow
from tests.support.directory import (
    INDEXER_SECRET,
    PUBLIC_URL,
    Pipeline,
    asgi_client,
    build_sandbox,
)
from tests.support.temporal import unique_task_queue


@pytest.fixture
def sandbox_app() -> FastAPI:
    return build_sandbox()


@pytest.fixture
async def sandbox(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(sandbox_app) as c:
        yield c


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
