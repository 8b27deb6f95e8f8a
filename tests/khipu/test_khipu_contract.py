"""The contract checker itself: strict where the spec can be met, and able to fail."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from openapi_core.exceptions import OpenAPIError

from marketred.integrations.khipu import KhipuClient, PaymentCreateRequest
from tests.support.khipu import API_KEY, SANDBOX_URL

from .contract import ContractTransport, strict_openapi


def strict_client(app: FastAPI) -> tuple[httpx.AsyncClient, KhipuClient]:
    transport = ContractTransport(httpx.ASGITransport(app=app), strict_openapi())
    http = httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL)
    return http, KhipuClient(SANDBOX_URL, API_KEY, http)


async def test_paid_payment_meets_the_unmodified_spec(sandbox_app: FastAPI) -> None:
    http, khipu = strict_client(sandbox_app)
    async with http:
        created = await khipu.create_payment(
            PaymentCreateRequest(amount=5000, subject="Prueba", payer_email="a@b.cl")
        )
        await http.post(f"/_sandbox/payments/{created.payment_id}/pay")
        payment = await khipu.get_payment(created.payment_id)
    assert payment.is_paid


async def test_pending_payment_needs_the_documented_relaxation(sandbox_app: FastAPI) -> None:
    http, khipu = strict_client(sandbox_app)
    async with http:
        created = await khipu.create_payment(PaymentCreateRequest(amount=5000, subject="x"))
        with pytest.raises(OpenAPIError):
            await khipu.get_payment(created.payment_id)


async def test_checker_rejects_a_response_missing_required_fields() -> None:
    mock = httpx.MockTransport(lambda _r: httpx.Response(200, json={"payment_id": "abc"}))
    async with httpx.AsyncClient(transport=ContractTransport(mock)) as http:
        with pytest.raises(OpenAPIError):
            await KhipuClient("https://k.test", API_KEY, http).get_payment("abc")


async def test_checker_rejects_a_request_without_api_key(sandbox_app: FastAPI) -> None:
    transport = ContractTransport(httpx.ASGITransport(app=sandbox_app))
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as http:
        with pytest.raises(OpenAPIError):
            await http.get("/v3/banks")


async def test_checker_rejects_a_body_against_the_schema(sandbox_app: FastAPI) -> None:
    transport = ContractTransport(httpx.ASGITransport(app=sandbox_app))
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as http:
        with pytest.raises(OpenAPIError):
            await http.post(
                "/v3/payments", headers={"x-api-key": API_KEY}, json={"amount": 1, "currency": "X"}
            )
