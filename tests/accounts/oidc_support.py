"""Signing in with InforedChile (the directory sandbox's OpenID provider) as a person
would: the demo people and the vendor the sandbox's staff belong to."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.store.models import Vendor
from tests.support.factories import make_vendor

OPERATOR = "operador@marketred.cl"
STAFF = "staff@cafe-altiplano.cl"  # the sandbox asserts inforedchile_company=inf-1001


async def vendor_for_inf_1001(db: AsyncSession) -> Vendor:
    vendor = await db.scalar(select(Vendor).where(Vendor.directory_id == "inf-1001"))
    return vendor or await make_vendor(db, name="Café Altiplano SpA", directory_id="inf-1001")


async def directory_sign_in(
    web: httpx.AsyncClient, person: str, *, fault: str | None = None, next_url: str = ""
) -> httpx.Response:
    """Click the button, pick the person on the provider's page, come back with the code."""
    start = await web.get("/ingresar")
    assert "Ingresar con InforedChile" in start.text
    r = await web.get("/auth/oidc/login" + (f"?next={next_url}" if next_url else ""))
    assert r.status_code == 303
    authorize_url = r.headers["location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"]
    assert query["nonce"]
    assert query["code_challenge"]
    async with httpx.AsyncClient(timeout=10) as provider:
        page = await provider.get(authorize_url)
        assert page.status_code == 200
        assert person in page.text  # the demo-person picker
        form = {k: v[0] for k, v in query.items()}
        form["person"] = person
        if fault:
            form["sandbox_fault"] = fault
        back = await provider.post(authorize_url.split("?")[0], data=form)
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/auth/oidc/callback"
    return await web.get(f"{callback.path}?{callback.query}")
