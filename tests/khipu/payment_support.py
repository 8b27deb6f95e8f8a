"""Test data for the payment service, activities and webhook: quotes and payment rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.khipu import signature
from marketred.schemas.payments import CheckPaymentInput, CreatePaymentInput
from marketred.store.models import Payment, Quote
from tests.support.factories import make_user, make_vendor

TOTAL = 45_990
# The quote's pay-by deadline: the same on every attempt, as the workflow sends it.
PAY_BY = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)


async def make_quote(db: AsyncSession, total: int = TOTAL) -> Quote:
    """An ACCEPTED quote row (what the payment row hangs from)."""
    vendor = await make_vendor(db)
    buyer = await make_user(db, "buyer")
    quote_id = uuid.uuid4()
    quote = Quote(
        id=quote_id,
        workflow_id=f"quote-{quote_id}",
        buyer_id=buyer.id,
        vendor_id=vendor.id,
        status="ACCEPTED",
        subtotal=total,
        shipping_cost=0,
        total=total,
        commission_bps=1000,
    )
    db.add(quote)
    await db.flush()
    return quote


def create_input(quote: Quote, **overrides: Any) -> CreatePaymentInput:
    fields: dict[str, Any] = {
        "quote_id": quote.id,
        "workflow_id": quote.workflow_id,
        "quote_number": f"Q-{quote.number:06d}",
        "vendor_name": "Ferretería Sur",
        "amount": quote.total,
        "expires_at": PAY_BY,
        "payer_email": "comprador@example.cl",
    }
    fields.update(overrides)
    return CreatePaymentInput(**fields)


def check_input(quote: Quote, khipu_payment_id: str, **overrides: Any) -> CheckPaymentInput:
    fields: dict[str, Any] = {
        "quote_id": quote.id,
        "workflow_id": quote.workflow_id,
        "khipu_payment_id": khipu_payment_id,
        "amount": quote.total,
    }
    fields.update(overrides)
    return CheckPaymentInput(**fields)


async def make_payment_row(db: AsyncSession, quote: Quote, khipu_payment_id: str) -> Payment:
    payment = Payment(
        quote_id=quote.id,
        transaction_id=quote.workflow_id,
        khipu_payment_id=khipu_payment_id,
        payment_url=f"http://khipu.test/payment/info/{khipu_payment_id}",
        amount=quote.total,
        currency="CLP",
        status="pending",
    )
    db.add(payment)
    await db.flush()
    return payment


def notification_body(payment_id: str, transaction_id: str, amount: int = TOTAL) -> bytes:
    """A notification 3.0 body as Khipu writes it (string amounts, PHP `\\/`)."""
    return (
        f'{{"payment_id":"{payment_id}","receiver_id":985101,"subject":"Cotizaci\\u00f3n",'
        f'"amount":"{amount}.0000","discount":"0.0000","currency":"CLP",'
        '"receipt_url":"http:\\/\\/khipu.test\\/r.pdf","bank":"DemoBank","bank_id":"Bawdf",'
        f'"transaction_id":"{transaction_id}","payment_method":"simplified_transfer",'
        '"conciliation_date":"2026-11-28T04:00:00.000Z"}'
    ).encode()


def signed_headers(secret: str, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
    t_ms = int((at or datetime.now(UTC)).timestamp() * 1000)
    return {
        "content-type": "application/json",
        signature.HEADER: signature.sign(secret, t_ms, body),
    }


async def postpayment_calls(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = (await http.get("/_sandbox/calls")).json()
    return [c for c in calls if c.get("operation") == "postPayment"]


async def sandbox_payments_for(
    http: httpx.AsyncClient, transaction_id: str
) -> list[dict[str, Any]]:
    payments: list[dict[str, Any]] = (await http.get("/_sandbox/payments")).json()
    return [p for p in payments if p.get("transaction_id") == transaction_id]
