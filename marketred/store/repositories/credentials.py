"""SQL of what proves who a caller is: web sessions, personal API tokens, mailed tokens.
Rows are looked up by the SHA-256 hash of the secret (the services hash it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import ApiToken, EmailToken, WebSession

# --- web sessions ------------------------------------------------------------------------


async def web_session_by_hash(session: AsyncSession, id_hash: str) -> WebSession | None:
    return await session.scalar(select(WebSession).where(WebSession.id_hash == id_hash))


async def revoke_web_session(session: AsyncSession, id_hash: str, now: datetime) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.id_hash == id_hash, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_web_sessions_of(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> None:
    """Every live web session of the user (but `keep`)."""
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(WebSession.id != keep)
    await session.execute(stmt.values(revoked_at=now))


# --- personal API tokens -----------------------------------------------------------------


async def unrevoked_api_tokens(session: AsyncSession, user_id: uuid.UUID) -> list[ApiToken]:
    """Newest first; expired ones included (the service knows what "now" is)."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    )
    return list(rows)


async def unrevoked_api_token(session: AsyncSession, token_id: uuid.UUID) -> ApiToken | None:
    return await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    )


async def api_token_by_hash(session: AsyncSession, token_hash: str) -> ApiToken | None:
    return await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


async def revoke_api_token(session: AsyncSession, token_id: uuid.UUID, now: datetime) -> bool:
    """False when it was revoked meanwhile (by another request)."""
    result = cast(
        CursorResult[tuple[()]],
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        ),
    )
    return result.rowcount > 0


async def revoke_api_tokens_of(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- mailed tokens (verify email, reset password) ----------------------------------------


async def use_up_email_tokens(
    session: AsyncSession, user_id: uuid.UUID, purpose: str, now: datetime
) -> None:
    """Mark the user's unused tokens of `purpose` used (a newer one replaces them)."""
    await session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user_id,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def use_email_token(
    session: AsyncSession, token_hash: str, purpose: str, now: datetime
) -> uuid.UUID | None:
    """Mark a live token used, atomically; its user's id, or None if unknown/used/expired."""
    return await session.scalar(
        update(EmailToken)
        .where(
            EmailToken.token_hash == token_hash,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(EmailToken.user_id)
    )
