"""Helpers for page tests over ASGI: sign a browser in, read a form's CSRF token."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.accounts import sessions
from marketred.settings import Settings
from marketred.store.models import User
from marketred.web.security.cookies import SESSION_COOKIE, sign

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, user: User
) -> None:
    raw, _ = await sessions.start_session(db, user)
    client.cookies.set(SESSION_COOKIE, sign(settings, SESSION_COOKIE, raw))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)
