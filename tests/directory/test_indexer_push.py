"""Indexer push through Temporal (time-skipping server): rapid edits coalesce into one
push of the last state; an indexer that is down receives everything when it returns,
pushes of one product in order; deletes and deactivations reach it too.

These tests commit for real (unique names), because the activity reads the product on
its own connection while the test edits it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.settings import Settings
from marketred.store.models import Product, Vendor
from tests.directory.helpers import at, company_body, put_company
from tests.support.api import app_client
from tests.support.directory import PUBLIC_URL, Pipeline
from tests.support.factories import make_product, make_vendor

pytestmark = pytest.mark.db


@pytest.fixture
async def db(committed: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with committed() as session:
        yield session


async def test_ten_quick_edits_make_one_push_with_the_last_state(
    pipeline: Pipeline, db: AsyncSession
) -> None:
    vendor = await make_vendor(db, "Tostaduría Coalesce")
    product, _ = await make_product(
        db, vendor, "Café v0", prices=(8990, 29990), keywords="café, grano"
    )
    await db.commit()
    for i in range(1, 11):
        product.name = f"Café v{i}"
        await db.commit()
        await pipeline.changed(product.id)
    result = await pipeline.finished(product.id)
    assert (result.pushes, result.changes_seen) == (1, 10)
    doc = (await pipeline.indexed())[str(product.id)]
    assert doc["name"] == "Café v10"
    assert doc["vendor"] == vendor.slug
    assert doc["keywords"] == ["café", "grano"]
    assert (doc["price_min"], doc["price_max"]) == (8990, 29990)
    assert doc["url"] == f"{PUBLIC_URL}/productos/{product.id}"
    assert [(e["method"], e["status"]) for e in await pipeline.log(product.id)] == [("POST", 200)]


async def test_indexer_outage_delays_pushes_and_the_last_state_arrives_in_order(
    pipeline: Pipeline, db: AsyncSession
) -> None:
    vendor = await make_vendor(db, "Tienda Apagón")
    kept, _ = await make_product(db, vendor, "Chaleco v1")
    dropped, _ = await make_product(db, vendor, "Gorro")
    await db.commit()
    await pipeline.sandbox.post("/_sandbox/indexer/outage", json={"status": 503, "count": None})

    await pipeline.changed(kept.id)
    await pipeline.changed(dropped.id)
    await pipeline.env.sleep(timedelta(minutes=30))
    # Edits during the outage: a rename and a delete.
    kept.name = "Chaleco v2"
    await db.delete(dropped)
    await db.commit()
    await pipeline.changed(kept.id)
    await pipeline.changed(dropped.id)
    await pipeline.env.sleep(timedelta(minutes=30))
    failures = [e for e in await pipeline.log(kept.id) if e["status"] == 503]
    assert len(failures) >= 10, "the push kept retrying with backoff during the hour"
    assert await pipeline.indexed() == {}

    await pipeline.sandbox.delete("/_sandbox/indexer/outage")
    await pipeline.finished(kept.id)
    await pipeline.finished(dropped.id)

    indexed = await pipeline.indexed()
    assert set(indexed) == {str(kept.id)}
    assert indexed[str(kept.id)]["name"] == "Chaleco v2"
    delivered = [e for e in await pipeline.log(kept.id) if e["status"] == 200]
    assert delivered, "the push arrived once the indexer was back"
    assert all(e["name"] == "Chaleco v2" for e in delivered), "no older state after a newer one"
    last = (await pipeline.log(dropped.id))[-1]
    assert (last["method"], last["status"]) == ("DELETE", 200)


async def test_deactivated_product_and_hidden_vendor_are_removed_from_the_index(
    pipeline: Pipeline, db: AsyncSession
) -> None:
    vendor = await make_vendor(db, "Zapatería Oculta")
    shoe, _ = await make_product(db, vendor, "Zapato")
    boot, _ = await make_product(db, vendor, "Botín")
    await db.commit()
    for p in (shoe, boot):
        await pipeline.changed(p.id)
        await pipeline.finished(p.id)
    assert set(await pipeline.indexed()) == {str(shoe.id), str(boot.id)}

    shoe.active = False
    await db.commit()
    await pipeline.changed(shoe.id)
    await pipeline.finished(shoe.id)
    assert set(await pipeline.indexed()) == {str(boot.id)}

    vendor.active = False
    await db.commit()
    await pipeline.changed(boot.id)
    await pipeline.finished(boot.id)
    assert await pipeline.indexed() == {}
    assert await db.get(Product, boot.id) is not None


async def test_company_hidden_by_the_directory_leaves_the_index(
    pipeline: Pipeline,
    db: AsyncSession,
    committed: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
) -> None:
    directory_id = f"inf-{uuid.uuid4().hex[:8]}"
    ours = settings.model_copy(update={"temporal_task_queue": pipeline.task_queue})
    async with app_client(
        ours, engine, committed, pipeline.sandbox, pipeline.env.client, base_url=PUBLIC_URL
    ) as api:
        body = company_body("Mieles del Sur", updated_at=at(0))
        assert (await put_company(api, directory_id, body, ours.directory_secret)).is_success
        vendor = await db.scalar(select(Vendor).where(Vendor.directory_id == directory_id))
        assert vendor is not None
        honey, _ = await make_product(db, vendor, "Miel de ulmo")
        await db.commit()
        await pipeline.changed(honey.id)
        await pipeline.finished(honey.id)
        assert (await pipeline.indexed())[str(honey.id)]["vendor_name"] == "Mieles del Sur"

        renamed = company_body("Mieles del Sur SpA", updated_at=at(1))
        assert (await put_company(api, directory_id, renamed, ours.directory_secret)).is_success
        await pipeline.finished(honey.id)
        assert (await pipeline.indexed())[str(honey.id)]["vendor_name"] == "Mieles del Sur SpA"

        hidden = company_body("Mieles del Sur SpA", active=False, updated_at=at(2))
        assert (await put_company(api, directory_id, hidden, ours.directory_secret)).is_success
        await pipeline.finished(honey.id)
        assert str(honey.id) not in await pipeline.indexed()
