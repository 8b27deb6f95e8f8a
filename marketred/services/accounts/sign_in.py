"""Password sign-in with abuse limits, shared by the API token endpoint and the web form.

Limits: every attempt counts per IP (`MARKETRED_LOGIN_PER_IP_MINUTE`); failures count
per account *and IP*, and that pair is locked (429) once they reach the limit, until the
sliding count leaves room; the owner gets a mail saying for how long when that happens.
Keyed by the pair so a stranger guessing from elsewhere cannot lock the owner out of
their own account (docs/security.md, finding 8); the per-IP limit still caps one
source's guesses across accounts. A failed attempt must stay counted although the
request that made it is refused: it says so to the request's transaction owner
(`keep_when_refused`), which commits before the refusal goes out.

In production vendor staff sign in with InforedChile only, and operators too unless
`MARKETRED_OPERATOR_PASSWORD_SIGN_IN` allows their password (break-glass): the
directory is where their second factor lives.
"""

from __future__ import annotations

import math
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.accounts import mail as auth_mail
from marketred.services.accounts import rate_limits
from marketred.services.accounts import users as accounts
from marketred.services.errors import Forbidden, InvalidInput, Unauthorized
from marketred.settings import Settings
from marketred.store.models import User
from marketred.store.repositories import users as users_repo
from marketred.store.session import after_commit, keep_when_refused

LOCK = rate_limits.LOGIN_FAILURES_PER_ACCOUNT


async def password_sign_in(
    session: AsyncSession, settings: Settings, email: str, password: str, *, ip: str | None
) -> User:
    email = email.strip().lower()
    per_ip = rate_limits.login_per_ip(settings.login_per_ip_minute)
    if ip and per_ip is not None:
        await rate_limits.hit(session, per_ip, ip)
    lock_key = f"{email}|{ip or '-'}"
    await rate_limits.ensure_below(session, LOCK, lock_key)
    try:
        user = await accounts.authenticate(session, email, password)
    except Unauthorized:
        owner = await users_repo.get_by_email(session, email)
        await _count_failure(session, settings, lock_key, owner)
        raise
    if settings.env == "production" and user.role == "vendor":
        raise Forbidden("vendor staff sign in with InforedChile")
    if (
        settings.env == "production"
        and user.role == "operator"
        and not settings.operator_password_sign_in
    ):
        raise Forbidden("operators sign in with InforedChile")
    await rate_limits.reset(session, LOCK, lock_key)
    return user


async def change_password(
    session: AsyncSession, settings: Settings, user_id: uuid.UUID, current: str, new: str
) -> User:
    """A password change counts wrong current passwords like failed sign-ins, so a stolen
    session or bearer token cannot be used to guess the password."""
    user = await accounts.get_active_user(session, user_id)
    await rate_limits.ensure_below(session, LOCK, user.email)
    try:
        return await accounts.change_password(session, user_id, current, new)
    except InvalidInput as exc:
        if any(field == "current_password" for field, _ in exc.errors):
            await _count_failure(session, settings, user.email, user)
        raise


async def _count_failure(
    session: AsyncSession, settings: Settings, key: str, owner: User | None
) -> None:
    """Count a failed attempt under `key`, kept although the request is about to be
    refused, and mail the owner (once that is committed) when this attempt locks it."""
    failures = await rate_limits.hit(session, LOCK, key)
    keep_when_refused(session)
    if failures == LOCK.max_hits and owner is not None:
        wait = await rate_limits.seconds_until_room(session, LOCK, key)
        minutes = max(1, math.ceil(wait / 60))
        mail = auth_mail.lockout_mail(settings, owner.email, minutes)
        after_commit(session, auth_mail.send, settings, mail)
