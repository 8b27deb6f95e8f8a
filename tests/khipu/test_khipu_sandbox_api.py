"""The simulator's /v3 API as Khipu documents it: validation, auth, ids, state machine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from marketred.sandbox.khipu import create_app_from_settings
from marketred.settings import Settings
from tests.support.khipu import API_KEY, RECEIVER_ID, SANDBOX_URL, build_sandbox
from tests.support.polling import eventually

AUTH = {"x-api-key": API_KEY}
VALID = {"amount": 12990, "currency": "CLP", "subject": "Cotización Q-000001"}


async def create(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await http.post("/v3/payments", headers=AUTH, json={**VALID, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def get(http: httpx.AsyncClient, payment_id: str) -> dict[str, Any]:
    response = await http.get(f"/v3/payments/{payment_id}", headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def field_errors(raw_http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, str]:
    response = await raw_http.post("/v3/payments", headers=AUTH, json=body)
    assert response.status_code == 400
    data = response.json()
    assert data["status"] == 400
    assert data["message"]
    return {e["field"]: e["message"] for e in data["errors"]}


async def test_payment_ids_are_12_lowercase_alphanumerics_and_unique(
    http: httpx.AsyncClient,
) -> None:
    ids = [(await create(http))["payment_id"] for _ in range(40)]
    assert all(re.fullmatch(r"[a-z0-9]{12}", i) for i in ids)
    assert len(set(ids)) == len(ids)


async def test_create_answers_the_six_documented_fields(http: httpx.AsyncClient) -> None:
    body = await create(http)
    pid = body["payment_id"]
    assert body == {
        "payment_id": pid,
        "payment_url": f"{SANDBOX_URL}/payment/info/{pid}",
        "simplified_transfer_url": f"{SANDBOX_URL}/payment/simplified/{pid}",
        "transfer_url": f"{SANDBOX_URL}/payment/manual/{pid}",
        "app_url": f"khipu:///pos/{pid}",
        "ready_for_terminal": False,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"amount", "currency", "subject"}),
        ({**VALID, "amount": 1000.5}, {"amount"}),
        ({**VALID, "amount": "1000"}, {"amount"}),
        ({**VALID, "amount": 0}, {"amount"}),
        ({**VALID, "amount": -5}, {"amount"}),
        ({**VALID, "currency": "USD", "amount": 10.12345}, {"amount"}),
        ({**VALID, "currency": "XYZ"}, {"currency"}),
        ({**VALID, "subject": "   "}, {"subject"}),
        ({**VALID, "subject": "x" * 256}, {"subject"}),
        ({**VALID, "bank_id": "ABCDEF"}, {"bank_id"}),
        ({**VALID, "return_url": "https://x.cl/" + "a" * 1020}, {"return_url"}),
        ({**VALID, "send_email": True}, {"payer_name", "payer_email"}),
        ({**VALID, "send_email": "yes"}, {"send_email"}),
        ({**VALID, "contract_url": "https://x.cl/c.pdf"}, {"fixed_payer_personal_identifier"}),
        ({**VALID, "expires_date": "mañana"}, {"expires_date"}),
        ({**VALID, "expires_date": "2030-01-01T10:00:00"}, {"expires_date"}),
        ({**VALID, "payer_email": "no-at-sign"}, {"payer_email"}),
        ({**VALID, "psp_client_merchant_name": "ab"}, {"psp_client_merchant_name"}),
    ],
)
async def test_create_validation(
    raw_http: httpx.AsyncClient, body: dict[str, Any], expected: set[str]
) -> None:
    assert set(await field_errors(raw_http, body)) == expected


async def test_usd_may_carry_decimals(http: httpx.AsyncClient) -> None:
    body = await create(http, currency="USD", amount=10.25)
    assert (await get(http, body["payment_id"]))["amount"] == 10.25


async def test_malformed_json_is_400(raw_http: httpx.AsyncClient) -> None:
    response = await raw_http.post(
        "/v3/payments", headers={**AUTH, "content-type": "application/json"}, content=b"{nope"
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Solicitud mal formada")


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}])
async def test_missing_or_unknown_key_is_401(sandbox_app: Any, headers: dict[str, str]) -> None:
    # Raw transport: the contract checker would itself refuse a request without a key.
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as raw:
        response = await raw.post("/v3/payments", headers=headers, json=VALID)
    assert response.status_code == 401
    assert response.json() == {"status": 401, "message": "Credenciales no válidas o faltantes"}


async def test_confirm_and_receivers_are_403_for_this_account(
    http: httpx.AsyncClient, raw_http: httpx.AsyncClient
) -> None:
    pid = (await create(http))["payment_id"]
    confirm = await http.post(f"/v3/payments/{pid}/confirm", headers=AUTH)
    assert confirm.status_code == 403
    receivers = await raw_http.post("/v3/receivers", headers=AUTH, json={})
    assert receivers.status_code == 403
    assert receivers.json()["status"] == 403


async def test_payment_methods_use_upper_case_ids(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/v3/merchants/{RECEIVER_ID}/paymentMethods", headers=AUTH)
    ids = [m["id"] for m in response.json()["paymentMethods"]]
    assert ids == ["SIMPLIFIED_TRANSFER", "REGULAR_TRANSFER"]


async def test_predict_requires_its_query(
    http: httpx.AsyncClient, raw_http: httpx.AsyncClient
) -> None:
    bad = await raw_http.get("/v3/predict", headers=AUTH, params={"payer_email": "a@b.cl"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"bank_id", "amount", "currency"}
    query = {"payer_email": "a@b.cl", "bank_id": "Bawdf", "amount": "1000", "currency": "CLP"}
    ok = await http.get("/v3/predict", headers=AUTH, params=query)
    assert ok.json()["result"] == "ok"


async def test_state_machine_through_verifying(http: httpx.AsyncClient) -> None:
    pid = (await create(http))["payment_id"]
    await http.post(f"/_sandbox/payments/{pid}/pay", json={"outcome": "verifying"})
    payment = await get(http, pid)
    assert (payment["status"], payment["status_detail"]) == ("verifying", "pending")
    assert payment["conciliation_date"] is None
    await http.post(f"/_sandbox/payments/{pid}/pay", json={"outcome": "normal"})
    payment = await get(http, pid)
    assert (payment["status"], payment["status_detail"]) == ("done", "normal")
    assert payment["bank"] == "DemoBank"
    assert payment["bank_id"] == "Bawdf"
    assert payment["payer_name"] == "Cobrador de desarrollo #985.101"
    assert payment["personal_identifier"] == "44.444.444-4"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payment["conciliation_date"])
    again = await http.post(f"/_sandbox/payments/{pid}/pay", json={"outcome": "normal"})
    assert again.status_code == 400


@pytest.mark.parametrize(
    "outcome", ["rejected-by-payer", "marked-as-abuse", "marked-paid-by-receiver"]
)
async def test_forced_outcomes(http: httpx.AsyncClient, outcome: str) -> None:
    pid = (await create(http))["payment_id"]
    await http.post(f"/_sandbox/payments/{pid}/pay", json={"outcome": outcome})
    payment = await get(http, pid)
    assert (payment["status"], payment["status_detail"]) == ("done", outcome)
    assert (payment["conciliation_date"] is not None) == (outcome == "marked-paid-by-receiver")


async def test_verification_delay_then_done(http: httpx.AsyncClient) -> None:
    pid = (await create(http))["payment_id"]
    await http.post(f"/_sandbox/payments/{pid}/pay", json={"verify_delay": 0.3})
    assert (await get(http, pid))["status"] == "verifying"

    async def is_done() -> bool:
        return bool((await get(http, pid))["status"] == "done")

    await eventually(is_done, timeout=3)
    assert (await get(http, pid))["status_detail"] == "normal"


async def test_expired_payment_cannot_be_paid(http: httpx.AsyncClient) -> None:
    pid = (await create(http, expires_date="2020-01-01T00:00:00-03:00"))["payment_id"]
    response = await http.post(f"/_sandbox/payments/{pid}/pay")
    assert response.status_code == 400
    assert response.json()["message"] == "El cobro expiró"
    assert (await get(http, pid))["status"] == "pending"


async def test_reset_forgets_everything(http: httpx.AsyncClient) -> None:
    pid = (await create(http))["payment_id"]
    await http.post("/_sandbox/controls", json={"drop_next": 3, "copies": 2})
    await http.post("/_sandbox/reset")
    assert (await http.get("/_sandbox/payments")).json() == []
    assert (await http.get(f"/v3/payments/{pid}", headers=AUTH)).status_code == 404
    controls = (await http.get("/_sandbox/controls")).json()
    assert (controls["drop_next"], controls["copies"]) == (0, 1)


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "khipu.sqlite3"

    def client() -> httpx.AsyncClient:
        app = build_sandbox(state)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_URL)

    async with client() as first:
        paid = (await create(first))["payment_id"]
        open_one = (await create(first))["payment_id"]
        await first.post(f"/_sandbox/payments/{paid}/pay")
        await first.post(f"/v3/payments/{paid}/refunds", headers=AUTH, json={"amount": 990})
    async with client() as second:
        assert (await get(second, paid))["status_detail"] == "normal"
        assert (await get(second, open_one))["status"] == "pending"
        listed = (await second.get(f"/_sandbox/payments/{paid}")).json()
        assert listed["refundable"] == 12000


def test_app_from_settings_uses_account_and_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, khipu_sandbox_port=18123, khipu_receiver_id=4242)
    app = create_app_from_settings(settings)
    sandbox = app.state.sandbox
    assert sandbox.api_key == settings.khipu_api_key
    assert sandbox.receiver_id == 4242
    assert sandbox.public_url == "http://127.0.0.1:18123"
    assert (tmp_path / "khipu-sandbox.sqlite3").exists()
