"""Operators look accounts up and deactivate or reactivate them (fraud, a vendor's
employee who left, a compromised login).

Deactivation is the `users.active` flag every sign-in path already checks (password,
web session, bearer token, personal API token, directory sign-in), so it takes effect on
the account's next request; its web sessions, personal API tokens and JWTs are revoked
too, so a later reactivation means signing in again rather than old cookies or tokens
coming back to life.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.logs import get_logger
from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz, credentials
from marketred.services.errors import Conflict, NotFound
from marketred.store.models import User
from marketred.store.repositories import users as users_repo

log = get_logger(__name__)


@dataclass(frozen=True)
class AccountRow:
    id: uuid.UUID
    email: str
    name: str
    role: str
    vendor_name: str | None
    active: bool
    # Deleted by its owner (services/accounts/privacy.py): pseudonymised, never reactivated.
    erased: bool = False


async def find_accounts(
    session: AsyncSession, who: Principal, text: str, limit: int = 50
) -> list[AccountRow]:
    """Accounts whose email or name contains `text` (all, newest first, when empty)."""
    authz.require_role(who, "operator")
    found = await users_repo.search(session, text.strip()[:200], limit)
    return [
        AccountRow(u.id, u.email, u.name, u.role, vendor_name, u.active, u.erased_at is not None)
        for u, vendor_name in found
    ]


async def set_active(
    session: AsyncSession, who: Principal, user_id: uuid.UUID, active: bool
) -> tuple[User, bool]:
    """Deactivate (and sign out everywhere) or reactivate an account; idempotent. Returns
    the account and whether this call changed it (the owner is mailed only then)."""
    authz.require_role(who, "operator")
    if user_id == who.user_id and not active:
        raise Conflict("an operator cannot deactivate their own account")
    user = await users_repo.get(session, user_id)
    if user is None:
        raise NotFound("no such account")
    if active and user.erased_at is not None:
        raise Conflict("the owner deleted this account; it cannot be reactivated")
    changed = user.active != active
    if changed:
        user.active = active
        await session.flush()
        log.info(
            "account activated" if active else "account deactivated",
            user_id=str(user.id),
            by=str(who.user_id),
        )
    if not active:
        # Not only sessions: a reactivated account must not find its old tokens alive.
        await credentials.revoke_all(session, user)
    return user, changed
