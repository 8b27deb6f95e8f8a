"""Client behaviour on odd answers from the wire (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from marketred.integrations.khipu import (
    KhipuClient,
    KhipuError,
    KhipuServerError,
    KhipuTimeout,
    KhipuUnavailable,
    PaymentCreateRequest,
)
from tests.support.ports import free_port

BASE = "https://payment-api.khipu.com"
Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, **kwargs: object) -> KhipuClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return KhipuClient(BASE, "key", http, retry_backoff=0.0, **kwargs)  # type: ignore[arg-type]


async def test_get_parses_string_amounts_and_missing_or_blank_fields() -> None:
    body = {
        "payment_id": "gqzdy6chjne9",
        "amount": "1000.0000",
        "discount": "0.0000",
        "status": "pending",
        "conciliation_date": "",
        "expires_date": None,
        "receiver_id": 985101,
        "unknown_new_field": {"nested": True},
    }
    khipu = client_for(lambda _req: httpx.Response(200, json=body))
    payment = await khipu.get_payment("gqzdy6chjne9")
    assert payment.amount == Decimal("1000")
    assert payment.amount_clp() == 1000
    assert payment.conciliation_date is None
    assert payment.expires_date is None
    assert payment.bank is None  # absent field
    assert payment.status == "pending"


async def test_get_parses_numeric_amount_and_reports_fractional_clp_as_not_whole() -> None:
    khipu = client_for(lambda _req: httpx.Response(200, json={"payment_id": "a", "amount": 1000.5}))
    payment = await khipu.get_payment("a")
    assert payment.amount == Decimal("1000.5")
    assert payment.amount_clp() is None


async def test_create_timeout_raises_and_is_sent_once() -> None:
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        raise httpx.ReadTimeout("slow", request=req)

    khipu = client_for(handler)
    with pytest.raises(KhipuTimeout) as caught:
        await khipu.create_payment(PaymentCreateRequest(amount=1000, subject="x"))
    assert caught.value.operation == "postPayment"
    assert len(calls) == 1


async def test_get_timeout_is_retried_then_succeeds() -> None:
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("slow", request=req)
        return httpx.Response(200, json={"banks": [{"bank_id": "Bawdf", "name": "DemoBank"}]})

    banks = await client_for(handler).get_banks()
    assert banks.banks[0].name == "DemoBank"
    assert len(calls) == 2


async def test_non_json_gateway_error_keeps_raw_body() -> None:
    khipu = client_for(lambda _req: httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(KhipuServerError) as caught:
        await khipu.delete_payment("abc")
    assert caught.value.status == 502
    assert caught.value.raw_body == "<html>Bad gateway</html>"
    assert caught.value.message == "Bad Gateway"


async def test_unexpected_4xx_is_a_plain_khipu_error() -> None:
    body = {"message": "Conflicto", "errors": [{"field": "x", "message": "y"}]}
    khipu = client_for(lambda _req: httpx.Response(409, json=body))
    with pytest.raises(KhipuError) as caught:
        await khipu.get_banks()
    assert type(caught.value) is KhipuError
    assert caught.value.message == "Conflicto"
    assert [(e.field, e.message) for e in caught.value.errors] == [("x", "y")]


async def test_malformed_200_body_is_an_error_not_a_crash() -> None:
    khipu = client_for(lambda _req: httpx.Response(200, json={"banks": "nope"}))
    with pytest.raises(KhipuError, match="unexpected response body"):
        await khipu.get_banks()


async def test_create_sends_integer_clp_and_iso_dates() -> None:
    sent: list[dict[str, object]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent.append(json.loads(req.content))
        return httpx.Response(200, json={"payment_id": "abc", "payment_url": "u"})

    from datetime import UTC, datetime

    await client_for(handler).create_payment(
        PaymentCreateRequest(
            amount=12990, subject="x", expires_date=datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
        )
    )
    assert sent == [
        {"amount": 12990, "currency": "CLP", "subject": "x", "expires_date": "2030-01-02T03:04:00Z"}
    ]


async def test_unreachable_khipu_raises_unavailable() -> None:
    khipu = KhipuClient(f"http://127.0.0.1:{free_port()}", "key", retry_backoff=0.0)
    try:
        with pytest.raises(KhipuUnavailable):
            await khipu.create_payment(PaymentCreateRequest(amount=1000, subject="x"))
    finally:
        await khipu.aclose()
