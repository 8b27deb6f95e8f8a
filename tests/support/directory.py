"""The directory sandbox app (InforedChile's stand-in), in memory, for tests; and the
indexer pipeline's handle (time-skipping Temporal, the real push activity, the sandbox's
indexer) for the indexer tests (fixtures in tests/directory/conftest.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from marketred.sandbox.directory.app import create_app
from marketred.schemas.directory import IndexProductResult, indexer_workflow_id
from marketred.services.directory import indexer as directory_indexer

SECRET = "test-directory-secret"
INDEXER_SECRET = "test-indexer-secret"
CLIENT_ID = "marketred"
CLIENT_SECRET = "test-oidc-client-secret"
ISSUER = "http://directory.test"
PUBLIC_URL = "http://marketred.test"


def build_sandbox(state_path: Path | None = None, http: httpx.AsyncClient | None = None) -> FastAPI:
    return create_app(
        issuer=ISSUER,
        marketplace_url=PUBLIC_URL,
        secret=SECRET,
        indexer_secret=INDEXER_SECRET,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        state_path=state_path,
        http=http,
    )


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER)


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
