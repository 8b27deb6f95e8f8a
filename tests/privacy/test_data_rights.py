"""A buyer's rights over the API and the web: download, correct, delete; what vendors
and operators see afterwards; and who may use the codec endpoint."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.testing import WorkflowEnvironment

from marketred.integrations.mail import OutgoingMail
from marketred.integrations.payload_codec import KEY_ID, SubjectMarkingJSONConverter
from marketred.schemas.quotes import workflow_id_for
from marketred.services.accounts import mail as auth_mail
from marketred.settings import Settings
from marketred.store.models import DataSubjectKey, Quote, QuoteEvent, User, WebSession
from marketred.store.repositories import quotes as quotes_repo
from tests.support import api as support_api
from tests.support.factories import PASSWORD, auth_headers, make_user, make_vendor
from tests.support.pages import csrf_of, sign_in

pytestmark = pytest.mark.db

CONTACT = {
    "name": "Ana Pérez Rojas",
    "email": "ana.rojas@correo.cl",
    "phone": "+56 9 8765 4321",
    "address": "Los Aromos 1234, Valdivia",
}


@pytest.fixture
async def app_client(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
    dev_server_env: WorkflowEnvironment,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a real Temporal (erasure asks it which quotes are still running)."""
    temporal = dev_server_env.client
    async with support_api.app_client(
        settings, engine, session_factory, http_client, temporal
    ) as c:
        yield c


async def _quote(db: AsyncSession, buyer: User, status: str = "COMPLETED") -> Quote:
    vendor = await make_vendor(db)
    quote_id = uuid.uuid4()
    quote = await quotes_repo.add_quote(
        db,
        Quote(
            id=quote_id,
            workflow_id=workflow_id_for(quote_id),
            buyer_id=buyer.id,
            vendor_id=vendor.id,
            status=status,
            subtotal=25000,
            shipping_cost=0,
            total=25000,
            commission_bps=1000,
            note="Tocar el timbre dos veces",
            contact=CONTACT,
        ),
        [],
    )
    await quotes_repo.add_events(
        db,
        [
            {"quote_id": quote.id, "seq": 1, "kind": "cancel_requested", "status": status,
             "actor": "buyer", "message": "me llamo Ana y cambié de idea", "at": datetime.now(UTC)},
        ],
    )  # fmt: skip
    return quote


async def test_buyer_downloads_corrects_and_deletes_over_the_api(
    app_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db, "buyer")
    quote = await _quote(db, buyer)
    h = auth_headers(settings, buyer)

    r = await app_client.get("/api/v1/me/data", headers=h)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["account"]["email"] == buyer.email
    [exported] = data["quotes"]
    assert exported["contact"] == CONTACT
    assert exported["note"] == "Tocar el timbre dos veces"

    r = await app_client.patch("/api/v1/me", json={"name": "Ana María"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Ana María"
    r = await app_client.patch("/api/v1/me", json={"email": "no-es-un-correo"}, headers=h)
    assert r.status_code == 422
    assert "email" in r.text

    r = await app_client.post("/api/v1/me/erase", json={"password": "wrong"}, headers=h)
    assert r.status_code == 422
    assert (await db.get(User, buyer.id, populate_existing=True)).active  # type: ignore[union-attr]

    r = await app_client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["quotes_kept"] == 1
    user = await db.get(User, buyer.id, populate_existing=True)
    assert user is not None
    assert user.email == f"borrado-{buyer.id}@marketred.invalid"
    assert (user.name, user.password_hash, user.active) == ("", None, False)
    assert user.erased_at is not None
    kept = await db.get(Quote, quote.id, populate_existing=True)
    assert kept is not None
    assert (kept.total, kept.contact, kept.note) == (25000, {}, "")
    messages = await db.scalars(select(QuoteEvent.message).where(QuoteEvent.quote_id == quote.id))
    assert list(messages) == [""]
    key = await db.get(DataSubjectKey, buyer.id, populate_existing=True)
    assert key is not None
    assert key.wrapped_key is None
    assert key.shredded_at is not None
    # The old token no longer opens anything.
    assert (await app_client.get("/api/v1/me/data", headers=h)).status_code == 401


async def test_erasure_waits_for_quotes_in_progress(
    app_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db, "buyer")
    await _quote(db, buyer, status="PAID")
    r = await app_client.post(
        "/api/v1/me/erase", json={"password": PASSWORD}, headers=auth_headers(settings, buyer)
    )
    assert r.status_code == 409, r.text
    assert (await db.get(User, buyer.id, populate_existing=True)).active  # type: ignore[union-attr]


async def test_vendors_and_operators_see_the_erasure(
    app_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db, "buyer")
    quote = await _quote(db, buyer)
    operator = await make_user(db, "operator")
    r = await app_client.post(
        "/api/v1/me/erase", json={"password": PASSWORD}, headers=auth_headers(settings, buyer)
    )
    assert r.status_code == 200, r.text
    r = await app_client.get(f"/api/v1/quotes/{quote.id}", headers=auth_headers(settings, operator))
    assert r.status_code == 200, r.text
    assert r.json()["contact"] == {"name": "", "email": None, "phone": None, "address": None}
    assert r.json()["total"] == 25000
    r = await app_client.get(
        "/api/v1/quotes", params={"buyer": buyer.email}, headers=auth_headers(settings, operator)
    )
    assert r.json()["total"] == 0  # the old email leads nowhere

    # The console shows the account as deleted by its owner and will not bring it back.
    await sign_in(app_client, db, settings, operator)
    pseudonym = f"borrado-{buyer.id}@marketred.invalid"
    page = await app_client.get("/operador/cuentas", params={"q": pseudonym})
    assert page.status_code == 200
    assert "Eliminada por su titular" in page.text
    assert f"/operador/cuentas/{buyer.id}/reactivar" not in page.text
    r = await app_client.post(
        f"/operador/cuentas/{buyer.id}/reactivar", data={"csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303
    assert "ya-no-es-posible" in r.headers["location"]
    user = await db.get(User, buyer.id, populate_existing=True)
    assert user is not None
    assert not user.active


async def test_buyer_uses_the_privacy_page(
    app_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db, "buyer")
    await _quote(db, buyer)
    await sign_in(app_client, db, settings, buyer)
    page = await app_client.get("/cuenta/privacidad")
    assert page.status_code == 200
    assert "Descargar mis datos" in page.text
    download = await app_client.get("/cuenta/privacidad/datos.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.json()["quotes"][0]["contact"]["phone"] == CONTACT["phone"]

    r = await app_client.post(
        "/cuenta/privacidad/corregir",
        data={"csrf_token": csrf_of(page.text), "name": "Ana Pérez", "email": buyer.email},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/cuenta/privacidad?aviso=datos-corregidos"
    assert (await db.get(User, buyer.id, populate_existing=True)).name == "Ana Pérez"  # type: ignore[union-attr]

    wrong = await app_client.post(
        "/cuenta/privacidad/eliminar",
        data={"csrf_token": csrf_of(page.text), "password": "no-es-esta"},
    )
    assert wrong.status_code == 422
    assert "La contraseña no es correcta." in wrong.text
    without_token = await app_client.post(
        "/cuenta/privacidad/eliminar", data={"password": PASSWORD}
    )
    assert without_token.status_code == 403
    done = await app_client.post(
        "/cuenta/privacidad/eliminar",
        data={"csrf_token": csrf_of(page.text), "password": PASSWORD},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/?aviso=cuenta-eliminada"
    sessions_left = await db.scalar(
        select(func.count()).select_from(WebSession).where(WebSession.user_id == buyer.id)
    )
    assert sessions_left == 0
    assert (await app_client.get("/cuenta/privacidad")).status_code == 303  # to sign in


def _body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


async def test_codec_endpoint_is_for_operators_and_the_temporal_ui_origin(
    app_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db, "buyer")
    operator = await make_user(db, "operator")
    plain = SubjectMarkingJSONConverter().to_payload({"contact": CONTACT})
    assert plain is not None
    r = await app_client.post("/codec/encode", content=_body(plain))
    assert r.status_code == 401
    r = await app_client.post(
        "/codec/encode", content=_body(plain), headers=auth_headers(settings, buyer)
    )
    assert r.status_code == 403
    r = await app_client.post(
        "/codec/encode", content=_body(plain), headers=auth_headers(settings, operator)
    )
    assert r.status_code == 200, r.text
    sealed = json_format.Parse(r.text, Payloads()).payloads[0]
    assert KEY_ID in sealed.metadata
    assert b"Aromos" not in sealed.SerializeToString()

    # A signed-in operator's browser: only from the Temporal UI's origin (CORS'd).
    await sign_in(app_client, db, settings, operator)
    ui = settings.temporal_ui_url.rstrip("/")
    r = await app_client.post(
        "/codec/decode", content=_body(sealed), headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    r = await app_client.post("/codec/decode", content=_body(sealed), headers={"Origin": ui})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ui
    assert r.headers["access-control-allow-credentials"] == "true"
    assert json_format.Parse(r.text, Payloads()).payloads[0] == plain
    preflight = await app_client.options(
        "/codec/decode",
        headers={
            "Origin": ui,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ui
    r = await app_client.post(
        "/codec/decode", content="{not json", headers=auth_headers(settings, operator)
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_corrected_email_must_be_verified_again(
    app_client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[OutgoingMail] = []

    async def catch(settings: Settings, mail: OutgoingMail) -> bool:
        del settings
        sent.append(mail)
        return True

    monkeypatch.setattr(auth_mail, "send", catch)
    buyer = await make_user(db, "buyer")
    other = await make_user(db, "buyer")
    buyer.email_verified_at = datetime.now(UTC)
    await db.flush()
    h = auth_headers(settings, buyer)
    taken = await app_client.patch("/api/v1/me", json={"email": other.email}, headers=h)
    assert taken.status_code == 409
    new = f"nuevo-{uuid.uuid4().hex[:6]}@correo.cl"
    r = await app_client.patch("/api/v1/me", json={"email": new.upper()}, headers=h)
    assert r.status_code == 200, r.text
    user = await db.get(User, buyer.id, populate_existing=True)
    assert user is not None
    assert user.email == new
    assert user.email_verified_at is None
    assert [m.to for m in sent] == [new]
