"""Server-side web sessions.

The browser holds a random session id (signed in the cookie by the web layer); the
database keeps only its SHA-256 hash, the CSRF secret and the timestamps that enforce the
idle and absolute timeouts. Signing in always makes a new record (no fixation), signing
out or changing the password revokes records, so a replayed cookie finds nothing alive.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import User, WebSession
from marketred.store.repositories import credentials as repo

IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# last_seen_at is written at most this often, so browsing does not write on every page.
TOUCH_EVERY = timedelta(minutes=1)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LiveSession:
    record: WebSession
    user: User


async def start_session(
    session: AsyncSession,
    user: User,
    *,
    method: str = "password",
    replacing: str | None = None,
    now: datetime | None = None,
) -> tuple[str, WebSession]:
    """Create a session for `user`; returns the raw id (for the cookie) and the record.

    `replacing` is the raw id the browser held before (if any): it is revoked so an id
    planted before sign-in can never become an authenticated session.
    """
    now = now or now_utc()
    if replacing:
        await end_session(session, replacing, now=now)
    raw = secrets.token_urlsafe(32)
    record = WebSession(
        id_hash=hash_secret(raw),
        user_id=user.id,
        csrf_secret=secrets.token_hex(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
        method=method,
    )
    session.add(record)
    await session.flush()
    return raw, record


async def load_session(
    session: AsyncSession, raw: str, *, now: datetime | None = None
) -> LiveSession | None:
    """The live session for a raw id, or None if unknown, revoked, idle or expired."""
    now = now or now_utc()
    record = await repo.web_session_by_hash(session, hash_secret(raw))
    if record is None or record.revoked_at is not None:
        return None
    if now >= record.expires_at or now - record.last_seen_at >= IDLE_TIMEOUT:
        return None
    user = await session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return LiveSession(record=record, user=user)


async def end_session(session: AsyncSession, raw: str, *, now: datetime | None = None) -> None:
    await repo.revoke_web_session(session, hash_secret(raw), now or now_utc())


async def revoke_user_sessions(
    session: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID | None = None
) -> None:
    """Revoke every live session of a user (password change, reset, lockout)."""
    await repo.revoke_web_sessions_of(session, user_id, now_utc(), keep=keep)
