"""The migrations build the whole schema from an empty database with no drift."""

import asyncio

import pytest
from sqlalchemy import text

from marketred.store.migrate import check, upgrade
from marketred.store.session import create_engine

pytestmark = pytest.mark.db


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        names = {r[0] for r in rows}
    await engine.dispose()
    return names


def test_upgrade_from_empty_builds_every_table_and_check_finds_no_drift(new_database):
    url = new_database()
    assert "vendors" not in asyncio.run(_tables(url))
    upgrade(url)
    tables = asyncio.run(_tables(url))
    for table in (
        "vendors",
        "users",
        "products",
        "variants",
        "carts",
        "cart_items",
        "quotes",
        "quote_lines",
        "quote_events",
        "payments",
        "payment_events",
        "ledger_entries",
        "payouts",
        "payout_items",
        "idempotency_keys",
        "alembic_version",
    ):
        assert table in tables
    check(url)  # raises if the models and the migrated schema differ
