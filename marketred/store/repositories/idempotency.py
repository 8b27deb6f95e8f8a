"""SQL of `Idempotency-Key` records: one row per (user, scope, key)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import IdempotencyKey


async def insert_key(
    session: AsyncSession, user_id: uuid.UUID, scope: str, key: str, request_hash: str
) -> uuid.UUID | None:
    """The new row's id, or None when the key is there already (a concurrent first use
    waits on the unique index until that transaction ends)."""
    return await session.scalar(
        insert(IdempotencyKey)
        .values(id=uuid.uuid4(), user_id=user_id, scope=scope, key=key, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=["user_id", "scope", "key"])
        .returning(IdempotencyKey.id)
    )


async def lock_stored(
    session: AsyncSession, user_id: uuid.UUID, scope: str, key: str
) -> Row[tuple[str, int | None, dict[str, Any] | None, str | None]]:
    """The existing row's request hash and stored response, locked."""
    return (
        await session.execute(
            select(
                IdempotencyKey.request_hash,
                IdempotencyKey.response_status,
                IdempotencyKey.response_body,
                IdempotencyKey.resource_id,
            )
            .where(
                IdempotencyKey.user_id == user_id,
                IdempotencyKey.scope == scope,
                IdempotencyKey.key == key,
            )
            .with_for_update()
        )
    ).one()


async def store_response(
    session: AsyncSession,
    record_id: uuid.UUID,
    status: int,
    body: dict[str, Any],
    resource_id: str | None,
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == record_id)
        .values(response_status=status, response_body=body, resource_id=resource_id)
    )
