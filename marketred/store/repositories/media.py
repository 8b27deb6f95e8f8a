"""SQL of photo renditions kept in PostgreSQL (`media_blobs`, keyed by content hash)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import MediaBlob


async def put_blob(session: AsyncSession, key: str, data: bytes, content_type: str) -> None:
    """Once per key (the same key always carries the same bytes)."""
    await session.execute(
        pg_insert(MediaBlob)
        .values(key=key, content_type=content_type, data=data)
        .on_conflict_do_nothing(index_elements=["key"])
    )


async def get_blob(session: AsyncSession, key: str) -> MediaBlob | None:
    return await session.get(MediaBlob, key)
