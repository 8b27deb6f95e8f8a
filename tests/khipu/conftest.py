from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from marketred.integrations.khipu import KhipuClient
from marketred.sandbox.khipu import create_app

from .contract import ContractTransport

API_KEY = "0b7f1c2e-5d3a-4c8e-9f61-2a4b6c8d0e1f"
SECRET = "5c0f2a9e7b1d4c3a8e6f0b2d4a6c8e0f1a3b5c7d"
RECEIVER_ID = 985101
SANDBOX_URL = "http://khipu.test"


@pytest.fixture
async def sandbox_app() -> AsyncIterator[FastAPI]:
    app = create_app(
        api_key=API_KEY,
        secret=SECRET,
        receiver_id=RECEIVER_ID,
        public_url=SANDBOX_URL,
        state_path=None,
    )
    yield app
    # ASGITransport runs no lifespan, so stop the sandbox's timers here.
    await app.state.sandbox.stop()


@pytest.fixture
def contract(sandbox_app: FastAPI) -> ContractTransport:
    return ContractTransport(httpx.ASGITransport(app=sandbox_app))


@pytest.fixture
async def http(contract: ContractTransport) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the in-process sandbox; /v3 traffic is checked against the spec."""
    async with httpx.AsyncClient(transport=contract, base_url=SANDBOX_URL) as client:
        yield client


@pytest.fixture
def khipu(http: httpx.AsyncClient) -> KhipuClient:
    return KhipuClient(SANDBOX_URL, API_KEY, http, retry_backoff=0.01)


@pytest.fixture
async def raw_http(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """For invalid requests sent on purpose: only the sandbox's answers are spec-checked."""
    transport = ContractTransport(httpx.ASGITransport(app=sandbox_app), check_requests=False)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as client:
        yield client
