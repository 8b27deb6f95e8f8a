"""Builds the Khipu create-payment request for an accepted quote.

`transaction_id` is the workflow id (docs/architecture.md, "Money, ids, time"), so a
webhook or a payment read back from Khipu always leads to its quote, and `custom` carries
the quote id for operators.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from marketred.integrations.khipu.models import PaymentCreateRequest

NOTIFY_API_VERSION = "3.0"
WEBHOOK_PATH = "/webhooks/khipu"
SUBJECT_MAX = 255


def quote_payment_request(
    *,
    public_url: str,
    workflow_id: str,
    quote_id: UUID | str,
    quote_number: str,
    vendor_name: str,
    total_clp: int,
    expires_at: datetime,
    payer_email: str | None = None,
) -> PaymentCreateRequest:
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    base = public_url.rstrip("/")
    quote_url = f"{base}/quotes/{quote_id}"
    subject = f"Cotización {quote_number} — {vendor_name}"
    return PaymentCreateRequest(
        amount=total_clp,
        currency="CLP",
        subject=subject[:SUBJECT_MAX],
        transaction_id=workflow_id,
        custom=str(quote_id),
        return_url=f"{quote_url}?payment=return",
        cancel_url=f"{quote_url}?payment=cancel",
        notify_url=f"{base}{WEBHOOK_PATH}",
        notify_api_version=NOTIFY_API_VERSION,
        expires_date=expires_at,
        payer_email=payer_email,
    )
