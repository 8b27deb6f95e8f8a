"""The Khipu client against the in-process sandbox; every /v3 exchange is spec-checked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from marketred.integrations.khipu import (
    KhipuAuthError,
    KhipuClient,
    KhipuNotFound,
    KhipuServerError,
    KhipuValidationError,
    PaymentCreateRequest,
)
from tests.support.khipu import API_KEY, RECEIVER_ID, SANDBOX_URL

from .contract import ContractTransport

EXPIRES = datetime(2031, 1, 31, 18, 0, tzinfo=UTC)


def request(**overrides: object) -> PaymentCreateRequest:
    fields: dict[str, object] = {
        "amount": 12990,
        "subject": "Cotización Q-000123 — Ferretería Don Pepe",
        "transaction_id": "quote-4b1f",
        "return_url": "https://marketred.test/quotes/1?payment=return",
        "cancel_url": "https://marketred.test/quotes/1?payment=cancel",
        "expires_date": EXPIRES,
    }
    fields.update(overrides)
    return PaymentCreateRequest.model_validate(fields)


async def pay(http: httpx.AsyncClient, payment_id: str, outcome: str = "normal") -> None:
    response = await http.post(f"/_sandbox/payments/{payment_id}/pay", json={"outcome": outcome})
    assert response.status_code == 200, response.text


async def test_create_then_get_shows_pending_payment_as_sent(khipu: KhipuClient) -> None:
    created = await khipu.create_payment(request())
    assert re.fullmatch(r"[a-z0-9]{12}", created.payment_id)
    assert created.payment_url == f"{SANDBOX_URL}/payment/info/{created.payment_id}"
    assert created.app_url == f"khipu:///pos/{created.payment_id}"

    payment = await khipu.get_payment(created.payment_id)
    assert (payment.status, payment.status_detail) == ("pending", "pending")
    assert payment.amount == Decimal(12990)
    assert payment.amount_clp() == 12990
    assert payment.currency == "CLP"
    assert payment.subject == "Cotización Q-000123 — Ferretería Don Pepe"
    assert payment.transaction_id == "quote-4b1f"
    assert payment.receiver_id == RECEIVER_ID
    assert payment.expires_date == EXPIRES
    assert payment.conciliation_date is None
    assert not payment.is_paid


async def test_paid_payment_reads_back_as_paid(khipu: KhipuClient, http: httpx.AsyncClient) -> None:
    created = await khipu.create_payment(request())
    await pay(http, created.payment_id)
    payment = await khipu.get_payment(created.payment_id)
    assert (payment.status, payment.status_detail) == ("done", "normal")
    assert payment.is_paid
    assert payment.bank == "DemoBank"
    assert payment.conciliation_date is not None
    assert payment.payment_method == "simplified_transfer"


async def test_declined_payment_is_done_but_not_paid(
    khipu: KhipuClient, http: httpx.AsyncClient
) -> None:
    created = await khipu.create_payment(request())
    await pay(http, created.payment_id, "rejected-by-payer")
    payment = await khipu.get_payment(created.payment_id)
    assert payment.status == "done"
    assert payment.is_declined
    assert not payment.is_paid


async def test_unknown_payment_raises_not_found(khipu: KhipuClient) -> None:
    with pytest.raises(KhipuNotFound) as caught:
        await khipu.get_payment("zzzzzzzzzzzz")
    assert caught.value.status == 404
    assert caught.value.message == "Pago no encontrado"
    assert '"status":404' in caught.value.raw_body


async def test_wrong_api_key_raises_auth_error(http: httpx.AsyncClient) -> None:
    client = KhipuClient(SANDBOX_URL, "not-the-key", http)
    with pytest.raises(KhipuAuthError) as caught:
        await client.get_banks()
    assert caught.value.status == 401
    assert caught.value.message == "Credenciales no válidas o faltantes"


async def test_validation_error_carries_field_errors(khipu: KhipuClient) -> None:
    with pytest.raises(KhipuValidationError) as caught:
        await khipu.create_payment(request(send_email=True, bank_id="NOPE"))
    fields = {e.field for e in caught.value.errors}
    assert fields == {"payer_name", "payer_email", "bank_id"}
    assert caught.value.status == 400
    assert "payer_name" in str(caught.value)


async def test_delete_pending_payment_then_it_is_gone(khipu: KhipuClient) -> None:
    created = await khipu.create_payment(request())
    result = await khipu.delete_payment(created.payment_id)
    assert result.message
    with pytest.raises(KhipuNotFound):
        await khipu.get_payment(created.payment_id)


async def test_delete_paid_payment_is_refused(khipu: KhipuClient, http: httpx.AsyncClient) -> None:
    created = await khipu.create_payment(request())
    await pay(http, created.payment_id)
    with pytest.raises(KhipuValidationError, match="pendientes"):
        await khipu.delete_payment(created.payment_id)
    assert (await khipu.get_payment(created.payment_id)).is_paid


async def test_partial_then_full_refund_reverses_payment(
    khipu: KhipuClient, http: httpx.AsyncClient
) -> None:
    created = await khipu.create_payment(request())
    await pay(http, created.payment_id)
    await khipu.refund_payment(created.payment_id, 2990)
    payment = await khipu.get_payment(created.payment_id)
    assert payment.status_detail == "normal"  # a partial refund leaves it paid

    with pytest.raises(KhipuValidationError) as caught:
        await khipu.refund_payment(created.payment_id, 10001)
    assert [e.field for e in caught.value.errors] == ["amount"]

    await khipu.refund_payment(created.payment_id)  # the remaining 10.000
    payment = await khipu.get_payment(created.payment_id)
    assert payment.status_detail == "reversed"
    assert payment.is_reversed
    assert not payment.is_paid
    state = (await http.get(f"/_sandbox/payments/{created.payment_id}")).json()
    assert [r["amount"] for r in state["refunds"]] == [2990, 10000]
    assert state["refundable"] == 0

    with pytest.raises(KhipuValidationError):
        await khipu.refund_payment(created.payment_id, 1)


async def test_refund_of_unpaid_payment_is_refused(khipu: KhipuClient) -> None:
    created = await khipu.create_payment(request())
    with pytest.raises(KhipuValidationError, match="conciliados"):
        await khipu.refund_payment(created.payment_id)


async def test_refund_of_declined_payment_is_refused(
    khipu: KhipuClient, http: httpx.AsyncClient
) -> None:
    created = await khipu.create_payment(request())
    await pay(http, created.payment_id, "marked-as-abuse")
    with pytest.raises(KhipuValidationError):
        await khipu.refund_payment(created.payment_id)


async def test_refund_after_settlement_date_is_refused(
    khipu: KhipuClient, http: httpx.AsyncClient
) -> None:
    settled = datetime.now(UTC) - timedelta(minutes=1)
    created = await khipu.create_payment(request(confirm_timeout_date=settled))
    await pay(http, created.payment_id)
    with pytest.raises(KhipuValidationError, match="rendido"):
        await khipu.refund_payment(created.payment_id, 1000)


async def test_banks_lists_demobank(khipu: KhipuClient) -> None:
    banks = await khipu.get_banks()
    assert [(b.bank_id, b.name) for b in banks.banks] == [("Bawdf", "DemoBank")]


async def test_get_is_retried_through_5xx(khipu: KhipuClient, http: httpx.AsyncClient) -> None:
    created = await khipu.create_payment(request())
    await http.post("/_sandbox/faults", json={"operation": "getPaymentById", "count": 2})
    payment = await khipu.get_payment(created.payment_id)
    assert payment.payment_id == created.payment_id
    calls = [c["outcome"] for c in (await http.get("/_sandbox/calls")).json()]
    assert calls == ["ok", "error", "error", "ok"]


async def test_get_gives_up_after_its_attempts(khipu: KhipuClient, http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/faults", json={"operation": "getBanks", "count": 5})
    with pytest.raises(KhipuServerError) as caught:
        await khipu.get_banks()
    assert caught.value.status == 500
    calls = (await http.get("/_sandbox/calls")).json()
    assert len(calls) == 3  # read_attempts defaults to 3


async def test_create_hitting_500_raises_and_is_not_retried(
    khipu: KhipuClient, http: httpx.AsyncClient
) -> None:
    await http.post("/_sandbox/faults", json={"operation": "postPayment", "count": 1})
    with pytest.raises(KhipuServerError) as caught:
        await khipu.create_payment(request())
    assert caught.value.operation == "postPayment"
    calls = (await http.get("/_sandbox/calls")).json()
    assert [(c["operation"], c["outcome"]) for c in calls] == [("postPayment", "error")]
    assert (await http.get("/_sandbox/payments")).json() == []


async def test_refund_hitting_500_is_not_retried(
    khipu: KhipuClient, http: httpx.AsyncClient
) -> None:
    created = await khipu.create_payment(request())
    await pay(http, created.payment_id)
    await http.post("/_sandbox/faults", json={"operation": "postPaymentRefundsById"})
    with pytest.raises(KhipuServerError):
        await khipu.refund_payment(created.payment_id)
    refunds = [c for c in (await http.get("/_sandbox/calls")).json() if "refunds" in c["path"]]
    assert len(refunds) == 1
    assert (await khipu.get_payment(created.payment_id)).status_detail == "normal"


async def test_every_exchange_was_checked_against_the_spec(
    khipu: KhipuClient, http: httpx.AsyncClient, contract: ContractTransport
) -> None:
    created = await khipu.create_payment(request(custom="<xml/>", body="Detalle"))
    await khipu.get_payment(created.payment_id)
    await pay(http, created.payment_id)
    await khipu.get_payment(created.payment_id)
    await khipu.refund_payment(created.payment_id, 1000)
    await khipu.get_banks()
    other = await khipu.create_payment(request())
    await khipu.delete_payment(other.payment_id)
    with pytest.raises(KhipuNotFound):
        await khipu.get_payment(other.payment_id)
    ops = {(m, re.sub(r"/[a-z0-9]{12}", "/{id}", p), s) for m, p, s in contract.checked}
    assert ops == {
        ("POST", "/v3/payments", 200),
        ("GET", "/v3/payments/{id}", 200),
        ("POST", "/v3/payments/{id}/refunds", 200),
        ("GET", "/v3/banks", 200),
        ("DELETE", "/v3/payments/{id}", 200),
        ("GET", "/v3/payments/{id}", 404),
    }


async def test_api_key_travels_in_x_api_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"banks": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await KhipuClient("https://payment-api.khipu.com/", API_KEY, http).get_banks()
    assert seen[0].headers["x-api-key"] == API_KEY
    assert str(seen[0].url) == "https://payment-api.khipu.com/v3/banks"
