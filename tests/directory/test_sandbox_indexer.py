"""The sandbox's indexer endpoint: it only takes signed pushes, lists what it has, and
its outage control answers the next pushes with 503."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from marketred.integrations.directory import (
    DirectoryIndexerClient,
    IndexerRejected,
    IndexerUnavailable,
)
from marketred.schemas.directory import IndexedProduct
from tests.support.directory import INDEXER_SECRET

URL = "http://directory.test/indexer/products"


def document(name: str) -> IndexedProduct:
    return IndexedProduct(
        id=uuid.uuid4(),
        vendor="cafe-altiplano",
        vendor_name="Café Altiplano SpA",
        name=name,
        keywords=["café"],
        price_min=7490,
        price_max=29990,
        url="http://marketred.test/productos/x",
        updated_at=datetime.now(UTC),
    )


async def test_signed_pushes_are_stored_and_deleted(sandbox: httpx.AsyncClient) -> None:
    client = DirectoryIndexerClient(sandbox, URL, INDEXER_SECRET)
    doc = document("Café Huila")
    await client.upsert(doc)
    await client.upsert(doc.model_copy(update={"name": "Café Huila 500 g"}))
    items = (await sandbox.get("/indexer/products")).json()["items"]
    assert [(i["id"], i["name"]) for i in items] == [(str(doc.id), "Café Huila 500 g")]
    await client.delete(doc.id)
    await client.delete(doc.id)  # deleting twice is fine
    assert (await sandbox.get("/indexer/products")).json()["total"] == 0
    page = await sandbox.get("/indexer")
    assert "Café Huila 500 g" in page.text  # in the push log


async def test_pushes_signed_with_another_secret_are_refused(sandbox: httpx.AsyncClient) -> None:
    with pytest.raises(IndexerRejected) as refused:
        await DirectoryIndexerClient(sandbox, URL, "wrong-secret").upsert(document("Intruso"))
    assert refused.value.status_code == 401
    unsigned = await sandbox.post("/indexer/products", json={"id": str(uuid.uuid4())})
    assert unsigned.status_code == 401
    assert (await sandbox.get("/indexer/products")).json()["total"] == 0


async def test_outage_answers_503_for_the_next_pushes(sandbox: httpx.AsyncClient) -> None:
    client = DirectoryIndexerClient(sandbox, URL, INDEXER_SECRET)
    await sandbox.post("/_sandbox/indexer/outage", json={"status": 503, "count": 2})
    doc = document("Chocolate")
    for _ in range(2):
        with pytest.raises(IndexerUnavailable):
            await client.upsert(doc)
    await client.upsert(doc)
    statuses = [e["status"] for e in (await sandbox.get("/indexer/log")).json()["items"]]
    assert statuses == [200, 503, 503]


async def test_new_company_form_leads_to_its_admin_page(sandbox: httpx.AsyncClient) -> None:
    home = await sandbox.get("/")
    assert "inf-1001" in home.text
    r = await sandbox.get("/admin/nueva", params={"id": "inf-2001"})
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/empresas/inf-2001"
    assert (await sandbox.get("/admin/empresas/inf-2001")).status_code == 200
