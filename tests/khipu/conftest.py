"""Khipu fixtures: the sandbox in process, spec-checked HTTP to it, our client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from marketred.integrations.khipu import KhipuClient
from tests.support.khipu import API_KEY, SANDBOX_URL, build_sandbox

from .contract import ContractTransport


@pytest.fixture
async def sandbox_app() -> AsyncIterator[FastAPI]:
    app = build_sandbox()
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
