"""The `data_subject_keys` table: wrapped per-buyer keys of the payload codec."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import DataSubjectKey


async def get(session: AsyncSession, subject_id: uuid.UUID) -> DataSubjectKey | None:
    return await session.scalar(
        select(DataSubjectKey).where(DataSubjectKey.subject_id == subject_id)
    )


async def get_or_create(
    session: AsyncSession, subject_id: uuid.UUID, wrapped_key: bytes, master_key_id: str
) -> DataSubjectKey:
    """The subject's row; `wrapped_key` is stored only if there was none (two processes
    racing to make the first key agree on the one that got in)."""
    await session.execute(
        insert(DataSubjectKey)
        .values(subject_id=subject_id, wrapped_key=wrapped_key, master_key_id=master_key_id)
        .on_conflict_do_nothing(index_elements=[DataSubjectKey.subject_id])
    )
    row = await session.scalar(
        select(DataSubjectKey)
        .where(DataSubjectKey.subject_id == subject_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def shred(session: AsyncSession, subject_id: uuid.UUID) -> None:
    """Destroy the subject's key for good; a later first use finds it shredded, not new."""
    now = datetime.now(UTC)
    await session.execute(
        insert(DataSubjectKey)
        .values(subject_id=subject_id, wrapped_key=None, master_key_id="", shredded_at=now)
        .on_conflict_do_update(
            index_elements=[DataSubjectKey.subject_id],
            set_={"wrapped_key": None, "shredded_at": now},
        )
    )
