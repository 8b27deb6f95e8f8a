"""Demo quotes for a first `marketred dev`: one in each state a newcomer should see.

They are made the way people make them — the buyer and the vendors' staff through the
public API, the payer through the Khipu sandbox — so each is a real `QuoteWorkflow` in
the Temporal UI and a real row in the operator console, with its mail and, for the
completed one, its ledger postings. Nothing is written to the database directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from marketred.services.operations.demo import DEMO_PASSWORD

BUYER = "comprador@marketred.cl"


@dataclass(frozen=True)
class DemoQuote:
    vendor: str
    product: int  # index in the vendor's product list
    quantity: int
    note: str
    goal: str  # REQUESTED, ACCEPTED, PAID, SHIPPED, COMPLETED or HELD


PLAN = [
    DemoQuote("cafe-altiplano", 0, 2, "Para la oficina, ¿despachan a Providencia?", "REQUESTED"),
    DemoQuote("textiles-chiloe", 0, 1, "Regalo de cumpleaños.", "ACCEPTED"),
    DemoQuote("cafe-altiplano", 1, 3, "", "PAID"),
    DemoQuote("zapateria-valparaiso", 0, 1, "Talla 39, por favor.", "SHIPPED"),
    DemoQuote("cafe-altiplano", 2, 4, "", "COMPLETED"),
    DemoQuote("textiles-chiloe", 1, 2, "", "HELD"),
]


class DemoQuotesFailed(RuntimeError):
    pass


def _check(r: httpx.Response, what: str) -> Any:
    if not r.is_success:
        raise DemoQuotesFailed(f"{what}: {r.status_code} {r.text[:300]}")
    return r.json()


def _login(api: httpx.Client, email: str) -> dict[str, str]:
    body = _check(
        api.post("/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD}),
        f"sign in as {email}",
    )
    return {"Authorization": f"Bearer {body['access_token']}"}


def _wait(
    api: httpx.Client,
    qid: str,
    headers: dict[str, str],
    done: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float,
) -> dict[str, Any]:
    """Poll the quote until `done` holds (the workflow moves it in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        quote: dict[str, Any] = _check(api.get(f"/api/v1/quotes/{qid}", headers=headers), what)
        if done(quote):
            return quote
        if time.monotonic() > deadline:
            raise DemoQuotesFailed(f"{what}: quote {quote['number']} is {quote['status']}")
        time.sleep(0.3)


def _pay(
    api: httpx.Client,
    khipu: httpx.Client,
    quote: dict[str, Any],
    buyer: dict[str, str],
    report_amount: int | None = None,
) -> None:
    _check(api.post(f"/api/v1/quotes/{quote['id']}/pay", headers=buyer), "start the payment")
    payments = _check(khipu.get("/_sandbox/payments"), "list sandbox payments")
    payment = next(p for p in payments if p["transaction_id"] == quote["workflow_id"])
    body: dict[str, Any] = {}
    if report_amount is not None:
        body["report_amount"] = report_amount
    _check(khipu.post(f"/_sandbox/payments/{payment['payment_id']}/pay", json=body), "pay")


def create_demo_quotes(api_url: str, khipu_url: str, timeout: float = 120) -> list[str]:
    """Drive PLAN through the API; returns the numbers of the quotes made."""
    made: list[str] = []
    with (
        httpx.Client(base_url=api_url, timeout=30) as api,
        httpx.Client(base_url=khipu_url, timeout=30) as khipu,
    ):
        buyer = _login(api, BUYER)
        staff = {slug: _login(api, f"staff@{slug}.cl") for slug in {q.vendor for q in PLAN}}
        for plan in PLAN:
            vendor = staff[plan.vendor]
            products = _check(api.get(f"/api/v1/vendors/{plan.vendor}/products"), "catalog")
            variant = products["items"][plan.product]["variants"][0]
            _check(
                api.put(
                    f"/api/v1/carts/{plan.vendor}/items/{variant['id']}",
                    json={"quantity": plan.quantity},
                    headers=buyer,
                ),
                "fill the cart",
            )
            quote = _check(
                api.post(
                    "/api/v1/quotes",
                    json={"vendor": plan.vendor, "note": plan.note, "contact": {}},
                    headers=buyer,
                ),
                "send the quote request",
            )
            made.append(quote["number"])
            qid = quote["id"]
            if plan.goal == "REQUESTED":
                continue
            accepted = _check(
                api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3990},
                         headers=vendor),
                "accept",
            )  # fmt: skip
            if plan.goal == "ACCEPTED":
                continue
            if plan.goal == "HELD":
                # Khipu reads the payment back 1 peso short: held for an operator.
                _pay(api, khipu, quote, buyer, report_amount=accepted["total"] - 1)
                _wait(api, qid, buyer, lambda q: bool(q["hold_reason"]), "hold", timeout)
                continue
            _pay(api, khipu, quote, buyer)
            _wait(api, qid, buyer, lambda q: q["status"] == "PAID", "payment", timeout)
            if plan.goal == "PAID":
                continue
            _check(
                api.post(f"/api/v1/quotes/{qid}/ship",
                         json={"carrier": "Starken", "tracking": f"DEMO-{quote['number']}"},
                         headers=vendor),
                "ship",
            )  # fmt: skip
            if plan.goal == "SHIPPED":
                continue
            _check(api.post(f"/api/v1/quotes/{qid}/deliver", headers=buyer), "confirm delivery")
            _wait(api, qid, buyer, lambda q: q["status"] == "COMPLETED", "completion", timeout)
    return made
