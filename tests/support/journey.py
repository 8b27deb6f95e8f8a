"""A quote's journey through the API of a running product (`marketred dev` or prod-local),
from outside and synchronously, as the e2e tests and benches drive it: sign in, fill a
cart, request, pay at the Khipu sandbox, ship, deliver."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.polling import wait_for

SLUG = "cafe-altiplano"
DEMO_PASSWORD = "marketred-demo"
# The timeline of a quote that went all the way (the API's `timeline[].kind`).
COMPLETED_TIMELINE = [
    "requested",
    "accepted",
    "payment_started",
    "paid",
    "shipped",
    "delivered",
    "completed",
]


def login(api: httpx.Client, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """A bearer token's headers for a password sign-in."""
    r = api.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def first_variant(api: httpx.Client, slug: str = SLUG) -> dict[str, Any]:
    variant: dict[str, Any] = api.get(f"/api/v1/vendors/{slug}/products").json()["items"][0][
        "variants"
    ][0]
    return variant


def fill_cart(
    api: httpx.Client, buyer: dict[str, str], variant: dict[str, Any], quantity: int = 1
) -> None:
    r = api.put(
        f"/api/v1/carts/{SLUG}/items/{variant['id']}", json={"quantity": quantity}, headers=buyer
    )
    assert r.status_code == 200, r.text


def wait_status(
    api: httpx.Client, qid: str, status: str, h: dict[str, str], timeout: float = 120
) -> dict[str, Any]:
    """Poll the quote until it shows `status`; the quote then."""
    quote: dict[str, Any] = wait_for(
        lambda: api.get(f"/api/v1/quotes/{qid}", headers=h).json(),
        lambda q: q["status"] == status,
        timeout=timeout,
    )
    return quote


def pay_at_khipu(khipu: httpx.Client, workflow_id: str) -> None:
    """The payer pays the quote's payment at the Khipu sandbox (its webhook follows)."""
    payments = khipu.get("/_sandbox/payments").json()
    rows = payments if isinstance(payments, list) else payments["items"]
    payment = next(p for p in rows if p["transaction_id"] == workflow_id)
    assert khipu.post(f"/_sandbox/payments/{payment['payment_id']}/pay", json={}).is_success


def ship_and_deliver(
    api: httpx.Client,
    qid: str,
    staff: dict[str, str],
    buyer: dict[str, str],
    tracking: str,
    carrier: str = "Starken",
) -> dict[str, Any]:
    """The vendor ships a PAID quote, the buyer confirms delivery; the quote once
    COMPLETED."""
    r = api.post(
        f"/api/v1/quotes/{qid}/ship",
        json={"carrier": carrier, "tracking": tracking},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    assert api.post(f"/api/v1/quotes/{qid}/deliver", headers=buyer).status_code == 200
    return wait_status(api, qid, "COMPLETED", buyer)
