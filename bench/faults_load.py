"""The traffic of the fault harness: quote lifecycles through two APIs with a client that
fails over and retries like a load balancer, and the Khipu webhook storm.

A step is retried on another API when the answer never came (refused, reset, timeout) or
was 502/503/504. A retried command that had already been applied answers 409; the client
then reads the quote and carries on if it moved past that step — what a person pressing
the button again would see.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from marketred.integrations.khipu import signature

VENDOR_SLUG = "cafe-altiplano"
STAFF = (f"staff@{VENDOR_SLUG}.cl", "marketred-demo")
ORDER = ["REQUESTED", "ACCEPTED", "PAID", "SHIPPED", "DELIVERED", "COMPLETED"]
RETRY_STATUSES = {502, 503, 504}


class GaveUp(Exception):
    pass


@dataclass
class Failover:
    """Round-robin over the APIs; a failed attempt moves to the next one."""

    bases: list[str]
    deadline_s: float = 300.0
    retries: int = 0
    http: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=3.0), limits=httpx.Limits(max_connections=400)
        )
    )
    _next: itertools.count[int] = field(default_factory=itertools.count)

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        deadline = time.monotonic() + self.deadline_s
        pause = 0.2
        while True:
            base = self.bases[next(self._next) % len(self.bases)]
            try:
                r = await self.http.request(method, base + path, **kw)
                if r.status_code not in RETRY_STATUSES:
                    return r
                why = f"{r.status_code}"
            except httpx.TransportError as exc:
                why = type(exc).__name__
            self.retries += 1
            if time.monotonic() > deadline:
                raise GaveUp(f"{method} {path}: still failing after {self.deadline_s:.0f}s ({why})")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


async def _pay_at_khipu(khipu: httpx.AsyncClient, payment_id: str) -> None:
    """The payer at the bank's page: a page that fails to answer is pressed again; a press
    after the bank already took the money is refused ("ya fue completado"): paid."""
    for attempt in range(20):
        try:
            r = await khipu.post(f"/_sandbox/payments/{payment_id}/pay", json={})
        except httpx.TransportError:
            await asyncio.sleep(min(0.5 * 2**attempt, 5.0))
            continue
        if r.status_code == 400 and "ya fue completado" in r.text:
            return
        r.raise_for_status()
        return
    raise GaveUp(f"paying {payment_id} at Khipu: no answer after 20 presses")


@dataclass
class Lifecycle:
    index: int
    quote_id: str | None = None
    workflow_id: str | None = None
    total: int = 0
    acknowledged: bool = False
    completed_at: float | None = None
    error: str | None = None


async def token(api: Failover, email: str, password: str) -> dict[str, str]:
    r = await api.request(
        "POST", "/api/v1/auth/token", data={"username": email, "password": password}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def buyers(api: Failover, count: int) -> list[dict[str, str]]:
    """`count` buyers, each with its own cart (one cart per buyer and vendor)."""
    out = []
    for _ in range(count):
        email = f"faults-{uuid.uuid4().hex[:10]}@example.cl"
        password = "correct horse battery"
        r = await api.request(
            "POST", "/api/v1/auth/register", json={"email": email, "password": password}
        )
        if r.status_code != 201:
            raise RuntimeError(f"register: {r.status_code} {r.text[:200]}")
        out.append(await token(api, email, password))
    return out


async def _status(api: Failover, qid: str, h: dict[str, str]) -> dict[str, Any]:
    r = await api.request("GET", f"/api/v1/quotes/{qid}", headers=h)
    r.raise_for_status()
    quote: dict[str, Any] = r.json()
    return quote


async def _command(
    api: Failover, qid: str, step: str, h: dict[str, str], after: str, **kw: Any
) -> httpx.Response | None:
    """POST a quote command; a 409 whose quote is already at or past `after` is done."""
    while True:
        r = await api.request("POST", f"/api/v1/quotes/{qid}/{step}", headers=h, **kw)
        if r.status_code < 300:
            return r
        if r.status_code == 409:
            quote = await _status(api, qid, h)
            if quote["status"] in ORDER and ORDER.index(quote["status"]) >= ORDER.index(after):
                return None
            await asyncio.sleep(0.5)  # e.g. a previous attempt's update still running
            continue
        raise RuntimeError(f"{step}: {r.status_code} {r.text[:300]}")


async def _wait(
    api: Failover, qid: str, status: str, h: dict[str, str], timeout: float, poll: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        quote = await _status(api, qid, h)
        if quote["status"] == status:
            return
        if time.monotonic() > deadline:
            raise GaveUp(
                f"never reached {status}: {quote['status']} waiting for {quote.get('waiting_for')}"
            )
        await asyncio.sleep(random.uniform(0.5, 1.5) * poll)


async def one_lifecycle(
    lc: Lifecycle,
    api: Failover,
    khipu: httpx.AsyncClient,
    buyer: dict[str, str],
    staff: dict[str, str],
    variant_id: str,
    cart_lock: asyncio.Lock,
    timeout: float,
    poll: float,
) -> None:
    key = uuid.uuid4().hex
    async with cart_lock:  # one buyer has one cart per vendor
        r = await api.request(
            "PUT",
            f"/api/v1/carts/{VENDOR_SLUG}/items/{variant_id}",
            json={"quantity": 1},
            headers=buyer,
        )
        r.raise_for_status()
        r = await api.request(
            "POST",
            "/api/v1/quotes",
            json={"vendor": VENDOR_SLUG, "note": f"faults {lc.index}", "contact": {}},
            headers={**buyer, "Idempotency-Key": key},
        )
        if r.status_code != 201:
            raise RuntimeError(f"create: {r.status_code} {r.text[:300]}")
    quote = r.json()
    lc.quote_id, lc.workflow_id, lc.acknowledged = quote["id"], quote["workflow_id"], True
    qid = quote["id"]
    await _command(api, qid, "accept", staff, "ACCEPTED", json={"shipping_cost": 3990})
    paid = await _command(api, qid, "pay", buyer, "PAID")
    if paid is not None:
        payment_id = paid.json()["payment_url"].rstrip("/").rsplit("/", 1)[-1]
        await _pay_at_khipu(khipu, payment_id)
    await _wait(api, qid, "PAID", buyer, timeout, poll)
    await _command(
        api, qid, "ship", staff, "SHIPPED", json={"carrier": "Faults", "tracking": qid[:8]}
    )
    await _command(api, qid, "deliver", buyer, "DELIVERED")
    await _wait(api, qid, "COMPLETED", buyer, timeout, poll)
    lc.total = (await _status(api, qid, buyer))["total"]
    lc.completed_at = time.monotonic()


@dataclass
class Storm:
    """Khipu's notifications held, then released ×3 in bursts (newest first, so out of
    order and late), plus forged and stale copies the API must refuse."""

    khipu: httpx.AsyncClient
    api: Failover
    secret: str
    forged_share: float = 0.10
    stale_share: float = 0.10
    forged_sent: int = 0
    stale_sent: int = 0
    accepted_fakes: list[str] = field(default_factory=list)
    _faked: set[int] = field(default_factory=set)

    async def start(self) -> None:
        r = await self.khipu.post("/_sandbox/controls", json={"copies": 3, "hold": True})
        r.raise_for_status()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(random.uniform(0.5, 2.5))
            await self.khipu.post("/_sandbox/notifications/release")
            await self._fakes()
        await self.khipu.post("/_sandbox/controls", json={"hold": False})
        await self.khipu.post("/_sandbox/notifications/release")

    async def _fakes(self) -> None:
        for d in (await self.khipu.get("/_sandbox/notifications")).json():
            if d["id"] in self._faked or d["copy"] != 1:
                continue
            self._faked.add(d["id"])
            body = d["body"].encode()
            roll = random.random()
            if roll < self.forged_share:
                header = signature.sign("not-the-secret", int(time.time() * 1000), body)
                self.forged_sent += 1
            elif roll < self.forged_share + self.stale_share:
                header = signature.sign(self.secret, int((time.time() - 3600) * 1000), body)
                self.stale_sent += 1
            else:
                continue
            r = await self.api.request(
                "POST",
                "/webhooks/khipu",
                content=body,
                headers={"content-type": "application/json", signature.HEADER: header},
            )
            if r.status_code < 400:
                self.accepted_fakes.append(f"{d['payment_id']}: {r.status_code}")
