"""Every credential a user holds, and ending all of them at once.

A person is signed in through web sessions (rows), personal API tokens (rows) and
short-lived JWTs (not stored: refused when issued before `users.tokens_valid_after`).
A password change or reset, a deactivation, an InforedChile link or role raise and the
"revoke all" button end every one of them, so no credential outlives the event that
should have ended it (docs/security.md, finding 6).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.accounts import sessions
from marketred.services.accounts.tokens import AccessToken
from marketred.services.errors import Unauthorized
from marketred.store.models import User
from marketred.store.repositories import credentials as repo


async def revoke_all(session: AsyncSession, user: User, *, now: datetime | None = None) -> None:
    """End every web session, personal API token and JWT the user holds right now."""
    now = now or sessions.now_utc()
    await sessions.revoke_user_sessions(session, user.id)
    await repo.revoke_api_tokens_of(session, user.id, now)
    user.tokens_valid_after = now
    await session.flush()


def check_access_token(user: User, token: AccessToken) -> None:
    """A JWT minted before the user's last revocation is dead."""
    if user.tokens_valid_after is not None and token.issued_at < user.tokens_valid_after:
        raise Unauthorized("the access token was revoked; sign in again")
