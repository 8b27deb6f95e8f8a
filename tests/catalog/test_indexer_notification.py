"""Catalog writes tell the directory's indexer workflow after they commit (docs/directory.md)."""

import uuid
from typing import Any

import httpx
import pytest

from marketred.app import create_app
from marketred.schemas.directory import indexer_workflow_id
from tests.catalog.helpers import product_body, vendor_actor
from tests.support.api import make_resources

pytestmark = pytest.mark.db


class RecordingTemporal:
    """Stands in for the Temporal client: records the workflow starts it is asked for."""

    def __init__(self) -> None:
        self.started: list[str] = []

    async def start_workflow(self, *_args: Any, id: str, **_kw: Any) -> None:  # noqa: A002
        self.started.append(id)


async def test_create_patch_and_import_signal_the_indexer(
    settings, engine, session_factory, http_client, db
):
    temporal = RecordingTemporal()
    app = create_app(
        settings,
        make_resources(settings, engine, session_factory, http_client, temporal),  # type: ignore[arg-type]
    )
    vendor = await vendor_actor(db, settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        r = await client.post(
            "/api/v1/vendor/products", json=product_body(), headers=vendor.headers
        )
        assert r.status_code == 201
        product_id = r.json()["id"]
        await client.patch(
            f"/api/v1/vendor/products/{product_id}", json={"active": False}, headers=vendor.headers
        )
        r = await client.post(
            "/api/v1/vendor/products/import",
            content=b"sku;nombre;precio\nNEW-1;Producto nuevo;1990\n",
            headers=vendor.headers,
        )
        assert r.status_code == 200
        r = await client.get("/api/v1/vendor/products", headers=vendor.headers)
        imported = next(p["id"] for p in r.json()["items"] if p["name"] == "Producto nuevo")
    assert temporal.started == [
        indexer_workflow_id(uuid.UUID(product_id)),
        indexer_workflow_id(uuid.UUID(product_id)),
        indexer_workflow_id(uuid.UUID(imported)),
    ]
