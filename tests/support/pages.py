"""Using the server-rendered pages as a browser without JavaScript would: a signed-in
session cookie, CSRF fields, the sign-in form, mail caught by the test mail catcher and
the links in it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.sandbox.mailcatcher import CaughtMail, list_caught
from marketred.services.accounts import sessions
from marketred.settings import Settings
from marketred.store.models import User
from marketred.web.security.cookies import SESSION_COOKIE, sign

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK_RE = re.compile(r"https?://\S+")


async def sign_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, user: User
) -> None:
    """Give `client` the session cookie of a fresh session for `user` (no form)."""
    raw, _ = await sessions.start_session(db, user)
    client.cookies.set(SESSION_COOKIE, sign(settings, SESSION_COOKIE, raw))


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


async def page_csrf(client: httpx.AsyncClient, path: str) -> str:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


async def web_login(
    client: httpx.AsyncClient, email: str, password: str, *, next_url: str = ""
) -> httpx.Response:
    token = await page_csrf(client, "/ingresar")
    return await client.post(
        "/ingresar",
        data={"email": email, "password": password, "csrf_token": token, "next": next_url},
    )


def mail_to(folder: Path, to: str) -> list[CaughtMail]:
    return [m for m in list_caught(folder) if to in m.to]


def link_in(mail: CaughtMail) -> str:
    found = LINK_RE.search(mail.text)
    assert found, mail.text
    return found.group(0)
