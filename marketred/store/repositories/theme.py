"""SQL of the site theme: one row (id 1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import SiteTheme


async def save(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        pg_insert(SiteTheme)
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def get(session: AsyncSession) -> SiteTheme | None:
    return await session.get(SiteTheme, 1)
