"""Operators resolve payouts over HTTP (API and console page) against a worker on the
Temporal dev server with the bank-file provider: double-submitted approvals and
confirmations change the payout once, the console lists what waits for a person and
serves the bank file."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pytest
from sqlalchemy import select

from marketred.sandbox.mailcatcher import list_caught
from marketred.store.models import LedgerEntry, Payout
from marketred.store.session import transaction
from tests.payouts.helpers import completed_sale, make_seller
from tests.support.factories import auth_headers, make_user
from tests.support.pages import csrf_of, sign_in
from tests.support.payouts import PayoutStack

pytestmark = pytest.mark.db


@pytest.fixture
def payout_overrides() -> dict[str, object]:
    return {"payout_provider": "bank_file"}


async def _status(stack: PayoutStack, payout_id: str, wanted: str) -> Payout:
    for _ in range(300):
        async with transaction(stack.sessions) as db:
            payout = await db.get(Payout, payout_id)
            assert payout is not None
            if payout.status == wanted:
                return payout
        await asyncio.sleep(0.1)
    raise AssertionError(f"payout never {wanted}")


async def _paid_out(stack: PayoutStack, vendor_id: object) -> list[int]:
    async with transaction(stack.sessions) as db:
        rows = await db.scalars(
            select(LedgerEntry.amount).where(
                LedgerEntry.vendor_id == vendor_id, LedgerEntry.account == "vendor_payouts"
            )
        )
        return list(rows)


async def test_double_submitted_decisions_over_the_api_change_the_payout_once(
    payout_api: tuple[httpx.AsyncClient, PayoutStack],
) -> None:
    http, stack = payout_api
    async with transaction(stack.sessions) as db:
        vendor, _, buyer = await make_seller(db)
        await completed_sale(db, vendor, buyer, 30_000)
        operator = await make_user(db, "operator")
    as_operator = auth_headers(stack.settings, operator)
    run = await http.post("/api/v1/payouts/run", headers=as_operator)
    [payout] = [p for p in run.json()["payouts"] if p["vendor_id"] == str(vendor.id)]
    url = f"/api/v1/payouts/{payout['payout_id']}"

    # One approval sent twice at once (a retried request): one decision, one answer.
    key = {**as_operator, "Idempotency-Key": "aprobar-1"}
    first, second = await asyncio.gather(
        http.post(f"{url}/approve", headers=key), http.post(f"{url}/approve", headers=key)
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.json() == second.json()
    await _status(stack, payout["payout_id"], "SUBMITTED")
    late = await http.post(f"{url}/approve", headers=as_operator)  # another click, no key
    assert late.status_code == 409

    wrong = await http.post(f"{url}/confirm-transfer", json={}, headers=as_operator)
    assert wrong.status_code == 422
    confirm = {**as_operator, "Idempotency-Key": "confirmar-1"}
    body = {"reference": "BE-TRX-5501"}
    one, two = await asyncio.gather(
        http.post(f"{url}/confirm-transfer", json=body, headers=confirm),
        http.post(f"{url}/confirm-transfer", json=body, headers=confirm),
    )
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    assert one.json()["status"] == two.json()["status"] == "PAID"
    assert one.json()["provider_ref"] == "BE-TRX-5501"
    again = await http.post(
        f"{url}/confirm-transfer", json={"reference": "otra"}, headers=as_operator
    )
    assert again.status_code == 409
    assert await _paid_out(stack, vendor.id) == [-27_000]
    await asyncio.sleep(1)  # the statement step runs after PAID; give it a moment
    statements = [
        m
        for m in list_caught(stack.mail_folder)
        if m.key == f"payout-{payout['payout_id']}:statement"
    ]
    assert [m.to for m in statements] == [vendor.email]


async def test_the_console_lists_what_waits_serves_the_bank_file_and_resolves_once(
    payout_api: tuple[httpx.AsyncClient, PayoutStack],
) -> None:
    http, stack = payout_api
    async with transaction(stack.sessions) as db:
        vendor, _, buyer = await make_seller(db)
        await completed_sale(db, vendor, buyer, 12_000)
        nobank, _, nobank_buyer = await make_seller(db, bank_account=False)
        await completed_sale(db, nobank, nobank_buyer, 8_000)
        operator = await make_user(db, "operator")
    async with transaction(stack.sessions) as db:
        await sign_in(http, db, stack.settings, operator)
    run = await http.post("/api/v1/payouts/run", headers=auth_headers(stack.settings, operator))
    ids = {p["vendor_id"]: p["payout_id"] for p in run.json()["payouts"]}
    ours, theirs = ids[str(vendor.id)], ids[str(nobank.id)]

    page = await http.get("/operador/pagos")
    assert page.status_code == 200
    assert "Sin datos bancarios: quedará retenido" in page.text
    for payout_id in (ours, theirs):
        page = await http.get("/operador/pagos")
        form = page.text[page.text.index(f'action="/operador/pagos/{payout_id}/aprobar"') :]
        nonce = form.split('name="nonce" value="', 1)[1].split('"', 1)[0]
        data = {"csrf_token": csrf_of(page.text), "nonce": nonce}
        # The same form posted twice (a double click): one approval, both redirected.
        answers = await asyncio.gather(
            http.post(f"/operador/pagos/{payout_id}/aprobar", data=data),
            http.post(f"/operador/pagos/{payout_id}/aprobar", data=data),
        )
        assert all(a.status_code == 303 for a in answers)
        assert {a.headers["location"] for a in answers} == {"/operador/pagos?aviso=pago-aprobado"}
    await _status(stack, ours, "SUBMITTED")
    held = await _status(stack, theirs, "HELD")
    assert held.hold_code == "missing_bank_details"

    page = await http.get("/operador/pagos")
    assert 'data-hold="missing_bank_details"' in page.text
    assert f'action="/operador/pagos/{theirs}/reintentar"' in page.text
    assert f'action="/operador/pagos/{ours}/confirmar"' in page.text
    link = page.text.split('href="/operador/pagos/nominas/', 1)[1].split('"', 1)[0]
    nomina = await http.get(f"/operador/pagos/nominas/{link}")
    assert nomina.status_code == 200
    rows = list(csv.reader(io.StringIO(nomina.text), delimiter=";"))
    assert [r[0] for r in rows[1:]] == [vendor.rut]
    assert rows[1][6] == "10800"

    csrf = csrf_of(page.text)
    missing = await http.post(
        f"/operador/pagos/{ours}/confirmar", data={"csrf_token": csrf, "reference": " "}
    )
    assert missing.headers["location"].endswith("aviso=falta-referencia")
    form = page.text[page.text.index(f'action="/operador/pagos/{ours}/confirmar"') :]
    nonce = form.split('name="nonce" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": csrf, "nonce": nonce, "reference": "BE-778"}
    answers = await asyncio.gather(
        http.post(f"/operador/pagos/{ours}/confirmar", data=data),
        http.post(f"/operador/pagos/{ours}/confirmar", data=data),
    )
    assert {a.headers["location"] for a in answers} == {
        "/operador/pagos?aviso=transferencia-confirmada"
    }
    paid = await _status(stack, ours, "PAID")
    assert paid.provider_ref == "BE-778"
    assert await _paid_out(stack, vendor.id) == [-10_800]
