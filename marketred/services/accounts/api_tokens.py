"""Personal API tokens for vendor integrations and operators.

A token is `mrp_` + 40 random characters, shown once; the database keeps its SHA-256.
A vendor staff token is scoped to the vendor it was made for: if the person later moves
to another vendor (or stops being staff), the token stops working.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz
from marketred.services.accounts.sessions import hash_secret
from marketred.services.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from marketred.store.models import ApiToken, User
from marketred.store.repositories import credentials as repo

PREFIX = "mrp_"
MAX_LIVE_TOKENS = 20
TOUCH_EVERY = timedelta(minutes=5)


def looks_like_personal_token(raw: str) -> bool:
    return raw.startswith(PREFIX)


async def create(
    session: AsyncSession,
    principal: Principal,
    name: str,
    *,
    expires_in_days: int | None = None,
) -> tuple[str, ApiToken]:
    if principal.role not in ("vendor", "operator"):
        raise Forbidden("personal API tokens are for vendor staff and operators")
    if principal.via_personal_token:
        # A leaked token must not be able to outlive its own revocation by minting others.
        raise Forbidden("a personal API token cannot create tokens; sign in with a password")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name the token", errors=[("name", "1 to 100 characters")])
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise InvalidInput("bad expiry", errors=[("expires_in_days", "1 to 3650")])
    if len(await list_live(session, principal)) >= MAX_LIVE_TOKENS:
        raise InvalidInput(
            "too many tokens", errors=[("name", f"revoke one first (max {MAX_LIVE_TOKENS})")]
        )
    raw = PREFIX + secrets.token_urlsafe(30)
    now = datetime.now(UTC)
    token = ApiToken(
        user_id=principal.user_id,
        vendor_id=principal.vendor_id,
        name=name,
        prefix=raw[:10],
        token_hash=hash_secret(raw),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    return raw, token


async def list_live(session: AsyncSession, principal: Principal) -> list[ApiToken]:
    rows = await repo.unrevoked_api_tokens(session, principal.user_id)
    now = datetime.now(UTC)
    return [t for t in rows if t.expires_at is None or t.expires_at > now]


async def revoke(session: AsyncSession, principal: Principal, token_id: uuid.UUID) -> None:
    """Owners revoke their tokens; operators may revoke anyone's (authz.authorize_token).
    Others' tokens, and tokens already revoked, are 404."""
    token = await repo.unrevoked_api_token(session, token_id)
    if token is None:
        raise NotFound("no such token")
    authz.authorize_token(principal, token, "revoke")
    if not await repo.revoke_api_token(session, token_id, datetime.now(UTC)):  # meanwhile
        raise NotFound("no such token")


async def authenticate(session: AsyncSession, raw: str) -> User:
    token = await repo.api_token_by_hash(session, hash_secret(raw))
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        raise Unauthorized("the API token is unknown or revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("the API token has expired")
    user = await session.get(User, token.user_id)
    if user is None or not user.active or user.vendor_id != token.vendor_id:
        raise Unauthorized("the API token no longer matches its account")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return user
