from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store import like
from marketred.store.models import User, Vendor


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def add(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    return user


async def search(session: AsyncSession, text: str, limit: int) -> list[tuple[User, str | None]]:
    """Users whose email or name contains `text`, with their vendor's name (newest first)."""
    stmt = select(User, Vendor.name).outerjoin(Vendor, Vendor.id == User.vendor_id)
    if text:
        pattern = like.contains(text)
        stmt = stmt.where(User.email.ilike(pattern) | User.name.ilike(pattern))
    rows = await session.execute(stmt.order_by(User.created_at.desc(), User.id).limit(limit))
    return [(user, vendor_name) for user, vendor_name in rows.all()]


async def get_by_oidc_subject(session: AsyncSession, subject: str) -> User | None:
    return await session.scalar(select(User).where(User.oidc_subject == subject))


async def email_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(select(User.email).where(User.id == user_id))
