"""The indexer outbox: every catalog change is recorded in its own transaction, so a
crash after the commit or an unreachable Temporal delays the directory's push but never
loses it; the worker's sweep delivers what the request could not."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from marketred.app import create_app
from marketred.schemas.accounts import Principal
from marketred.schemas.catalog import ProductIn, ProductPatch, VariantIn, VariantPatch
from marketred.schemas.directory import CompanyUpdate
from marketred.services.catalog import csv_import as catalog_import
from marketred.services.catalog import products as catalog
from marketred.services.directory import company_sync as directory_sync
from marketred.services.directory import indexer as directory_indexer
from marketred.settings import Settings
from marketred.store.models import IndexerOutbox, Vendor
from marketred.workers.worker import sweep_indexer_outbox
from tests.directory.helpers import at, company_body
from tests.support.api import make_resources
from tests.support.directory import Pipeline
from tests.support.factories import auth_headers, make_user, make_vendor

pytestmark = pytest.mark.db


async def _outbox(session: AsyncSession, product_id: uuid.UUID) -> datetime | None:
    return await session.scalar(
        select(IndexerOutbox.changed_at).where(IndexerOutbox.product_id == product_id)
    )


def _staff(vendor: Vendor) -> Principal:
    return Principal(user_id=uuid.uuid4(), role="vendor", vendor_id=vendor.id)


def _new_product(name: str, sku: str = "CAF-1") -> ProductIn:
    return ProductIn(name=name, variants=[VariantIn(sku=sku, price=8990)])


async def test_every_catalog_change_records_the_product_in_the_outbox(db: AsyncSession) -> None:
    vendor = await make_vendor(db, "Tostaduría Bandeja")
    staff = _staff(vendor)
    product = await catalog.create_product(db, staff, _new_product("Café en grano"))
    stamps = [await _outbox(db, product.id)]

    await catalog.update_product(db, staff, product.id, ProductPatch(name="Café molido"))
    stamps.append(await _outbox(db, product.id))
    extra = await catalog.add_variant(db, staff, product.id, VariantIn(sku="CAF-2", price=9990))
    stamps.append(await _outbox(db, product.id))
    await catalog.update_variant(db, staff, product.id, extra.id, VariantPatch(price=10990))
    stamps.append(await _outbox(db, product.id))
    await catalog.delete_variant(db, staff, product.id, extra.id)
    stamps.append(await _outbox(db, product.id))
    await catalog.delete_product(db, staff, product.id)
    stamps.append(await _outbox(db, product.id))

    times = [s for s in stamps if s is not None]
    assert len(times) == len(stamps), "each change keeps a row for the product"
    # Each change moves changed_at forward, so a dispatch in flight cannot clear it.
    assert all(a < b for a, b in itertools.pairwise(times))

    csv = "sku;nombre;precio\nTE-1;Té verde;$4.990\nTE-2;Té negro;5.990\n".encode()
    report = await catalog_import.import_csv(db, staff, csv, dry_run=False)
    assert len(report.touched_product_ids) == 2
    for pid in report.touched_product_ids:
        assert await _outbox(db, pid) is not None
    before = set(await db.scalars(select(IndexerOutbox.product_id)))
    dry = await catalog_import.import_csv(
        db, staff, b"sku;nombre;precio\nTE-3;Mate;1990\n", dry_run=True
    )
    assert dry.products_created == 1
    assert set(await db.scalars(select(IndexerOutbox.product_id))) == before, (
        "a dry run records nothing"
    )


def _company(directory_id: str, body: dict[str, object]) -> CompanyUpdate:
    return directory_sync.parse_company(directory_id, json.dumps(body).encode())


async def test_company_rename_records_the_vendor_products(db: AsyncSession) -> None:
    directory_id = f"inf-{uuid.uuid4().hex[:8]}"
    first = company_body("Mieles Bandeja", updated_at=at(0))
    await directory_sync.upsert_company(
        db, directory_id, _company(directory_id, first), commission_bps=1000
    )
    vendor = await db.scalar(select(Vendor).where(Vendor.directory_id == directory_id))
    assert vendor is not None
    honey = await catalog.create_product(db, _staff(vendor), _new_product("Miel", "MIEL-1"))
    await db.execute(delete(IndexerOutbox))  # as if already dispatched

    same = {**first, "updated_at": at(1)}
    await directory_sync.upsert_company(
        db, directory_id, _company(directory_id, same), commission_bps=1000
    )
    assert await _outbox(db, honey.id) is None, "nothing the indexer shows changed"
    renamed = {**first, "name": "Mieles Bandeja SpA", "updated_at": at(2)}
    await directory_sync.upsert_company(
        db, directory_id, _company(directory_id, renamed), commission_bps=1000
    )
    assert await _outbox(db, honey.id) is not None


# --- with Temporal and the sandbox indexer (real commits) -----------------------------


@pytest.fixture
async def db_committed(committed: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with committed() as session:
        yield session


async def test_change_committed_without_a_signal_is_pushed_by_the_worker_sweep(
    pipeline: Pipeline,
    db_committed: AsyncSession,
    committed: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    # The request committed, then the process died before telling Temporal.
    vendor = await make_vendor(db_committed, "Tienda Caída")
    product = await catalog.create_product(
        db_committed, _staff(vendor), _new_product("Chaleco huérfano", "CHA-1")
    )
    await db_committed.commit()
    assert await _outbox(db_committed, product.id) is not None

    ours = settings.model_copy(
        update={"temporal_task_queue": pipeline.task_queue, "indexer_sweep_seconds": 0.2}
    )
    stop = asyncio.Event()
    sweeper = asyncio.create_task(sweep_indexer_outbox(committed, pipeline.env.client, ours, stop))
    try:
        for _ in range(100):
            async with committed() as s:
                if await _outbox(s, product.id) is None:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the sweep never signalled the product")
        await pipeline.finished(product.id)
    finally:
        stop.set()
        await asyncio.wait_for(sweeper, timeout=10)
    assert (await pipeline.indexed())[str(product.id)]["name"] == "Chaleco huérfano"


async def test_a_change_during_dispatch_keeps_its_row_for_the_next_one(
    pipeline: Pipeline,
    db_committed: AsyncSession,
    committed: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vendor = await make_vendor(db_committed, "Tienda Carrera")
    staff = _staff(vendor)
    product = await catalog.create_product(db_committed, staff, _new_product("Gorro v1", "GO-1"))
    await db_committed.commit()
    real_signal = directory_indexer._signal

    async def edit_while_signalling(
        client: Client, ids: list[uuid.UUID], task_queue: str
    ) -> list[uuid.UUID]:
        async with committed.begin() as other:
            await catalog.update_product(other, staff, product.id, ProductPatch(name="Gorro v2"))
        return await real_signal(client, ids, task_queue)

    monkeypatch.setattr(directory_indexer, "_signal", edit_while_signalling)
    sent = await directory_indexer.dispatch_pending(
        committed, pipeline.env.client, task_queue=pipeline.task_queue, product_ids=[product.id]
    )
    assert sent == 1
    async with committed() as s:
        assert await _outbox(s, product.id) is not None, "the newer change is still owed"

    monkeypatch.setattr(directory_indexer, "_signal", real_signal)
    assert (
        await directory_indexer.dispatch_pending(
            committed, pipeline.env.client, task_queue=pipeline.task_queue, product_ids=[product.id]
        )
        == 1
    )
    async with committed() as s:
        assert await _outbox(s, product.id) is None
    await pipeline.finished(product.id)
    assert (await pipeline.indexed())[str(product.id)]["name"] == "Gorro v2"


class _Unreachable:
    """A Temporal handle whose server is down."""

    async def get(self) -> Client:
        raise RuntimeError("connection refused")


async def test_api_change_stands_when_temporal_is_down_and_waits_in_the_outbox(
    settings: Settings,
    engine: AsyncEngine,
    committed: async_sessionmaker[AsyncSession],
    db_committed: AsyncSession,
    http_client: httpx.AsyncClient,
) -> None:
    vendor = await make_vendor(db_committed, "Tienda Sin Motor")
    staff = await make_user(db_committed, "vendor", vendor)
    await db_committed.commit()
    resources = make_resources(settings, engine, committed, http_client)
    resources.temporal = _Unreachable()  # type: ignore[assignment]
    transport = httpx.ASGITransport(app=create_app(settings, resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        r = await api.post(
            "/api/v1/vendor/products",
            json={"name": "Taza", "variants": [{"sku": "TZ-1", "price": 3990}]},
            headers=auth_headers(settings, staff),
        )
    assert r.status_code == 201, r.text
    product_id = uuid.UUID(r.json()["id"])
    async with committed() as s:
        assert await _outbox(s, product_id) is not None
