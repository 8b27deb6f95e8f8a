"""Vendors set where their payouts go (API and back-office page): validated (bank from the
list, account digits, holder RUT check digit), only by their own staff, every change
logged (who, when) and mailed to the vendor; a payout keeps the account it was made with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from marketred.sandbox.mailcatcher import list_caught
from marketred.services.payouts import steps as payouts
from marketred.settings import Settings
from marketred.store.models import Payout, VendorBankAccountChange
from tests.payouts.helpers import completed_sale, make_seller
from tests.support.api import app_client
from tests.support.factories import auth_headers, make_user
from tests.support.pages import csrf_of, sign_in

pytestmark = pytest.mark.db

GOOD = {
    "bank_code": "12",
    "account_type": "vista",
    "account_number": "12-345-678",
    "holder_name": "Tostaduría Ñuñoa SpA",
    "holder_rut": "76.086.428-5",
}


@pytest.fixture
async def api(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
    mail_catcher: tuple[Path, int],
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The API sharing the test's rolled-back transaction, mailing to the test catcher."""
    _, port = mail_catcher
    mailing = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
    async with app_client(mailing, engine, session_factory, http_client) as c:
        yield c, mailing


def _mails_to(folder: Path, to: str) -> list[str]:
    return [m.text for m in list_caught(folder) if m.to == to and "cuenta bancaria" in m.subject]


async def test_vendor_staff_set_their_bank_account_and_every_change_is_logged_and_mailed(
    api: tuple[httpx.AsyncClient, Settings], db: AsyncSession, mail_catcher: tuple[Path, int]
) -> None:
    http, settings = api
    vendor, staff, buyer = await make_seller(db, bank_account=False)
    other_vendor, other_staff, _ = await make_seller(db)
    operator = await make_user(db, "operator")
    await completed_sale(db, vendor, buyer, 10_000)
    as_staff = auth_headers(settings, staff)
    folder, _ = mail_catcher

    missing = await http.get("/api/v1/vendor/bank-account", headers=as_staff)
    assert missing.status_code == 404
    for who in (buyer, operator):  # only the vendor's own staff
        refused = await http.put(
            "/api/v1/vendor/bank-account", json=GOOD, headers=auth_headers(settings, who)
        )
        assert refused.status_code == 403

    for field, bad in (
        ("bank_code", "999"),
        ("account_number", "12-ab"),
        ("holder_rut", "76.086.428-4"),  # wrong check digit
        ("account_type", "plazo"),
    ):
        r = await http.put(
            "/api/v1/vendor/bank-account", json={**GOOD, field: bad}, headers=as_staff
        )
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"].endswith(field) for e in r.json()["errors"]), r.json()
    assert (await http.get("/api/v1/vendor/bank-account", headers=as_staff)).status_code == 404

    # A payout made before the vendor has an account carries none.
    early = await payouts.create_vendor_payout(db, vendor.id, f"run-{uuid.uuid4()}")
    assert early is not None

    saved = await http.put("/api/v1/vendor/bank-account", json=GOOD, headers=as_staff)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["bank_code"], body["bank_name"], body["account_number"]) == (
        "012",
        "BancoEstado",
        "12345678",
    )
    assert (body["holder_rut"], body["updated_by"]) == ("76086428-5", staff.email)
    again = await http.put("/api/v1/vendor/bank-account", json=GOOD, headers=as_staff)
    assert again.status_code == 200  # the same account: nothing logged, nobody mailed
    changed = await http.put(
        "/api/v1/vendor/bank-account",
        json={**GOOD, "bank_code": "037", "account_number": "0-000-7654321-0"},
        headers=as_staff,
    )
    assert changed.status_code == 200

    log = (await http.get("/api/v1/vendor/bank-account/changes", headers=as_staff)).json()
    assert [c["by"] for c in log] == [staff.email, staff.email]
    assert "Banco Santander" in log[0]["summary"]
    assert "····3210" in log[0]["summary"]
    assert "76543210" not in log[0]["summary"]  # numbers are masked in the log
    mails = _mails_to(folder, str(vendor.email))
    assert len(mails) == 2
    [change] = [m for m in mails if "Antes: BancoEstado" in m]
    assert "Ahora: Banco Santander" in change
    assert staff.email in change
    rows = await db.scalars(
        select(VendorBankAccountChange).where(VendorBankAccountChange.vendor_id == vendor.id)
    )
    assert all(r.mailed_at is not None for r in rows)

    # The other vendor's staff see their own account only.
    theirs = await http.get(
        "/api/v1/vendor/bank-account", headers=auth_headers(settings, other_staff)
    )
    assert theirs.json()["holder_name"] == other_vendor.name

    # A payout made now copies today's account; the earlier one still has none (it will
    # pick the account up when its transfer step runs).
    await completed_sale(db, vendor, buyer, 5_000)
    now = await payouts.create_vendor_payout(db, vendor.id, f"run-{uuid.uuid4()}")
    assert now is None or now.payout_id != early.payout_id
    stored = await db.get(Payout, early.payout_id)
    assert stored is not None
    assert stored.bank_account_number is None


async def test_a_payout_keeps_the_account_it_was_made_with(
    api: tuple[httpx.AsyncClient, Settings], db: AsyncSession
) -> None:
    http, settings = api
    vendor, staff, buyer = await make_seller(db)
    await completed_sale(db, vendor, buyer, 10_000)
    made = await payouts.create_vendor_payout(db, vendor.id, f"run-{uuid.uuid4()}")
    assert made is not None
    changed = await http.put(
        "/api/v1/vendor/bank-account",
        json={**GOOD, "account_number": "99999999"},
        headers=auth_headers(settings, staff),
    )
    assert changed.status_code == 200
    payout = await db.get(Payout, made.payout_id, populate_existing=True)
    assert payout is not None
    assert (payout.bank_code, payout.bank_account_number) == ("012", "00012345678")
    detail = await http.get(
        f"/api/v1/payouts/{made.payout_id}", headers=auth_headers(settings, staff)
    )
    assert detail.json()["bank_account"].startswith("BancoEstado · Cuenta Corriente ····5678")


async def test_the_back_office_page_saves_the_account_and_shows_field_errors(
    api: tuple[httpx.AsyncClient, Settings], db: AsyncSession
) -> None:
    http, settings = api
    vendor, staff, _ = await make_seller(db, bank_account=False)
    await sign_in(http, db, settings, staff)
    page = await http.get("/vendedor/datos-bancarios")
    assert page.status_code == 200
    assert "Aún no tienes una cuenta bancaria" in page.text
    csrf = csrf_of(page.text)

    bad = await http.post(
        "/vendedor/datos-bancarios",
        data={**GOOD, "holder_rut": "76.086.428-4", "csrf_token": csrf},
    )
    assert bad.status_code == 422
    assert 'data-field-error="holder_rut"' in bad.text
    assert "Tostaduría Ñuñoa SpA" in bad.text  # what was typed stays

    ok = await http.post(
        "/vendedor/datos-bancarios", data={**GOOD, "csrf_token": csrf}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert ok.headers["location"].endswith("aviso=datos-bancarios-guardados")
    shown = await http.get("/vendedor/datos-bancarios")
    assert "BancoEstado" in shown.text
    assert "12345678" in shown.text
    assert shown.text.count("data-bank-change") == 1
    del vendor
