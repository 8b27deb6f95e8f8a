"""Khipu notification API 3.0: verify, store the raw event once, say whom to signal.

The endpoint only records and nudges: the quote workflow reads the payment back from
Khipu before it believes anything, so this stays fast and a forged-but-signed body
could at worst cause one extra read-back.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.khipu import KhipuSignatureError, PaymentNotification, signature
from marketred.services.errors import InvalidInput, Unauthorized
from marketred.store.repositories import payments as repo

# received: ours, signal the workflow · duplicate: already stored, nothing to do ·
# unknown_payment: no such payment or transaction here · orphan_payment: a payment Khipu
# made for one of our quotes that is not the quote's recorded payment (a lost create).
PAYMENT_ID_MAX = 32

Outcome = Literal["received", "duplicate", "unknown_payment", "orphan_payment"]


@dataclass(frozen=True)
class WebhookResult:
    outcome: Outcome
    khipu_payment_id: str
    event_id: uuid.UUID | None = None
    workflow_id: str | None = None


def _parse(raw_body: bytes) -> tuple[PaymentNotification, dict[str, object]]:
    try:
        data = json.loads(raw_body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        note = PaymentNotification.model_validate(data)
        if not 0 < len(note.payment_id) <= PAYMENT_ID_MAX:
            raise ValueError("payment_id has an impossible length")
        return note, data
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(f"the notification body is not a Khipu 3.0 payment: {exc}") from exc


async def receive(
    session: AsyncSession,
    *,
    secret: str,
    header: str | None,
    raw_body: bytes,
    now: datetime,
) -> WebhookResult:
    """Verify and store one notification (in the caller's transaction)."""
    try:
        signature.verify(secret, header, raw_body, now)
    except KhipuSignatureError as exc:
        raise Unauthorized(exc.message) from exc
    assert header is not None
    t_ms = int(signature.parse_header(header)[0])
    note, payload = _parse(raw_body)

    outcome: Outcome = "received"
    workflow_id: str | None = None
    quote_id: uuid.UUID | None = None
    payment = await repo.payment_by_khipu_id(session, note.payment_id)
    if payment is not None:
        quote_id, workflow_id = payment.quote_id, payment.transaction_id
    else:
        same_quote = (
            await repo.payment_by_transaction_id(session, note.transaction_id)
            if note.transaction_id
            else None
        )
        if same_quote is not None:
            outcome, quote_id = "orphan_payment", same_quote.quote_id
        else:
            outcome = "unknown_payment"

    event_id = await repo.insert_event_once(
        session,
        khipu_payment_id=note.payment_id,
        quote_id=quote_id,
        body_sha256=hashlib.sha256(raw_body).hexdigest(),
        raw_body=raw_body.decode("utf-8", errors="replace"),
        payload=payload,
        signature_t=t_ms,
        outcome=outcome,
        received_at=now,
    )
    if event_id is None:
        return WebhookResult("duplicate", note.payment_id)
    if outcome != "received":
        return WebhookResult(outcome, note.payment_id, event_id)
    return WebhookResult(outcome, note.payment_id, event_id, workflow_id)
