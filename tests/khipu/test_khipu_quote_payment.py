from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from marketred.integrations.khipu import quote_payment_request

QUOTE_ID = UUID("7d3c1a52-8a4e-4f7e-9a61-0c2b3d4e5f60")


def build(**overrides: object):
    fields: dict[str, object] = {
        "public_url": "https://marketred.cl/",
        "workflow_id": f"quote-{QUOTE_ID}",
        "quote_id": QUOTE_ID,
        "quote_number": "Q-000123",
        "vendor_name": "Ferretería Don Pepe",
        "total_clp": 45990,
        "expires_at": datetime(2026, 12, 1, 12, 0, tzinfo=timezone(timedelta(hours=-3))),
    }
    fields.update(overrides)
    return quote_payment_request(**fields)  # type: ignore[arg-type]


def test_request_for_a_quote() -> None:
    body = build().to_json()
    assert body == {
        "amount": 45990,
        "currency": "CLP",
        "subject": "Cotización Q-000123 — Ferretería Don Pepe",
        "transaction_id": f"quote-{QUOTE_ID}",
        "custom": str(QUOTE_ID),
        "return_url": f"https://marketred.cl/quotes/{QUOTE_ID}?payment=return",
        "cancel_url": f"https://marketred.cl/quotes/{QUOTE_ID}?payment=cancel",
        "notify_url": "https://marketred.cl/webhooks/khipu",
        "notify_api_version": "3.0",
        "expires_date": "2026-12-01T12:00:00-03:00",
    }


def test_long_vendor_name_is_cut_to_khipu_limit() -> None:
    assert len(build(vendor_name="x" * 400).subject) == 255


def test_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build(expires_at=datetime(2026, 12, 1, 12, 0))


def test_non_positive_total_is_refused() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        build(total_clp=0)


def test_expiry_in_utc_keeps_its_zone() -> None:
    body = build(expires_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC)).to_json()
    assert body["expires_date"] == "2026-12-01T15:00:00Z"
