"""Single-use, short-lived tokens sent by mail (email verification, password reset).

Only the SHA-256 of a token is stored. Consuming one is a single UPDATE ... WHERE
used_at IS NULL, so two clicks on the same link cannot both succeed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.accounts.sessions import hash_secret
from marketred.services.errors import InvalidInput, Reason
from marketred.store.models import EmailToken, User
from marketred.store.repositories import credentials as repo

Purpose = Literal["verify_email", "reset_password"]
LIFETIME: dict[str, timedelta] = {
    "verify_email": timedelta(days=2),
    "reset_password": timedelta(minutes=30),
}


async def issue(
    session: AsyncSession, user: User, purpose: Purpose, *, now: datetime | None = None
) -> str:
    """A new raw token; older unused tokens of the same purpose stop working."""
    now = now or datetime.now(UTC)
    await repo.use_up_email_tokens(session, user.id, purpose, now)
    raw = secrets.token_urlsafe(32)
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_secret(raw),
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    await session.flush()
    return raw


async def consume(
    session: AsyncSession, raw: str, purpose: Purpose, *, now: datetime | None = None
) -> User:
    """Use a token once; the user it belongs to, or InvalidInput if unknown/used/expired."""
    now = now or datetime.now(UTC)
    user_id = await repo.use_email_token(session, hash_secret(raw), purpose, now)
    user = await session.get(User, user_id) if user_id else None
    if user is None or not user.active:
        raise InvalidInput(
            Reason("LINK_INVALID", "el enlace no es válido, ya se usó o expiró"),
            errors=[("token", Reason("LINK_INVALID", "invalid or expired"))],
        )
    return user
