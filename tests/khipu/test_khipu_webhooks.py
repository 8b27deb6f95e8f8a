"""Webhook delivery over real sockets: sandbox and merchant receiver under uvicorn."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from marketred.integrations.khipu import (
    KhipuClient,
    KhipuSignatureError,
    KhipuTimeout,
    PaymentCreateRequest,
    PaymentNotification,
)
from marketred.integrations.khipu import signature as sig
from marketred.sandbox.khipu import create_app
from tests.support.khipu import API_KEY, RECEIVER_ID, SECRET
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.servers import serve

from .helpers import Receiver

BASE_DELAY = 0.05
WEBHOOK_KEYS = [
    "payment_id",
    "receiver_id",
    "subject",
    "amount",
    "discount",
    "currency",
    "receipt_url",
    "bank",
    "bank_id",
    "payer_name",
    "payer_email",
    "personal_identifier",
    "bank_account_number",
    "out_of_date_conciliation",
    "transaction_id",
    "responsible_user_email",
    "payment_method",
    "conciliation_date",
]


@dataclass
class Stack:
    sandbox_url: str
    notify_url: str
    receiver: Receiver
    http: httpx.AsyncClient  # to the sandbox
    khipu: KhipuClient

    async def create(self, **fields: Any) -> str:
        body: dict[str, Any] = {
            "amount": 12990,
            "subject": "Cotización Q-000123 — Ferretería/Don Pepe",
            "transaction_id": "quote-0d5e",
            "notify_url": self.notify_url,
            "notify_api_version": "3.0",
            **fields,
        }
        created = await self.khipu.create_payment(PaymentCreateRequest.model_validate(body))
        return created.payment_id

    async def pay(self, payment_id: str, outcome: str = "normal") -> None:
        response = await self.http.post(
            f"/_sandbox/payments/{payment_id}/pay", json={"outcome": outcome}
        )
        assert response.status_code == 200, response.text

    async def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (await self.http.get("/_sandbox/notifications")).json()
        return entries

    async def controls(self, **values: Any) -> None:
        assert (await self.http.post("/_sandbox/controls", json=values)).status_code == 200


@asynccontextmanager
async def sandbox_stack(
    receiver: Receiver | None = None,
    receiver_port: int | None = None,
    **app_kwargs: Any,
) -> AsyncIterator[Stack]:
    receiver = receiver or Receiver()
    rport, sport = receiver_port or free_port(), free_port()
    app = create_app(
        api_key=API_KEY,
        secret=SECRET,
        receiver_id=RECEIVER_ID,
        public_url=f"http://127.0.0.1:{sport}",
        state_path=app_kwargs.pop("state_path", None),
        notify_base_delay=BASE_DELAY,
        **app_kwargs,
    )
    async with serve(receiver.app(), rport) as rurl, serve(app, sport) as surl:
        async with httpx.AsyncClient(base_url=surl) as http:
            khipu = KhipuClient(surl, API_KEY, http, timeout=2.0, retry_backoff=0.01)
            yield Stack(surl, f"{rurl}/webhooks/khipu", receiver, http, khipu)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with sandbox_stack() as s:
        yield s


async def test_paid_payment_is_notified_signed_and_php_encoded(stack: Stack) -> None:
    pid = await stack.create(custom="7d3c1a52", payer_email="comprador@example.cl")
    # Pay the way a browser does: the payer page's "Pagar" form.
    await stack.http.post(f"/payment/info/{pid}/pay")
    await eventually(lambda: stack.receiver.received)
    hit = stack.receiver.received[0]

    assert hit.headers["content-type"] == "application/json"
    assert sig.verify(SECRET, hit.headers["x-khipu-signature"], hit.body, now=time.time())
    with pytest.raises(KhipuSignatureError):
        sig.verify(API_KEY, hit.headers["x-khipu-signature"], hit.body, now=time.time())

    data = json.loads(hit.body)
    expected_keys = [*WEBHOOK_KEYS[:15], "custom", *WEBHOOK_KEYS[15:]]
    assert list(data) == expected_keys
    assert data["payment_id"] == pid
    assert data["receiver_id"] == RECEIVER_ID
    assert (data["amount"], data["discount"], data["currency"]) == ("12990.0000", "0.0000", "CLP")
    assert data["transaction_id"] == "quote-0d5e"
    assert data["custom"] == "7d3c1a52"
    assert data["bank"] == "DemoBank"
    assert data["payer_email"] == "comprador@example.cl"
    # PHP json_encode: every slash escaped, non-ASCII as \u escapes, compact.
    assert b"/" not in hit.body.replace(b"\\/", b"")
    assert b"Ferreter\\u00eda\\/Don Pepe" in hit.body
    assert b": " not in hit.body

    payment = await stack.khipu.get_payment(pid)
    note = PaymentNotification.model_validate_json(hit.body)
    assert note.amount == payment.amount
    assert note.conciliation_date == payment.conciliation_date
    assert note.receipt_url == payment.receipt_url

    [delivery] = await stack.log()
    assert delivery["state"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [200]


async def test_non_200_is_retried_with_growing_delays_until_200(stack: Stack) -> None:
    stack.receiver.codes.extend([500, 503, 404])
    pid = await stack.create()
    await stack.pay(pid)
    await eventually(lambda: len(stack.receiver.received) == 4)
    [delivery] = await stack.log()
    assert delivery["state"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 404, 200]
    times = [r.at for r in stack.receiver.received]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for i, gap in enumerate(gaps):
        assert gap >= BASE_DELAY * 2**i * 0.9, gaps
    # Every attempt is signed afresh over the same bytes.
    bodies = {r.body for r in stack.receiver.received}
    assert len(bodies) == 1
    for r in stack.receiver.received:
        assert sig.verify(SECRET, r.headers["x-khipu-signature"], r.body, now=time.time())
    await asyncio.sleep(0.3)
    assert len(stack.receiver.received) == 4  # nothing after the 200


async def test_unreachable_receiver_is_retried_too(stack: Stack) -> None:
    pid = await stack.create(notify_url=f"http://127.0.0.1:{free_port()}/webhooks/khipu")
    await stack.pay(pid)

    async def two_attempts() -> bool:
        log = await stack.log()
        return len(log[0]["attempts"]) >= 2

    await eventually(two_attempts)
    attempts = (await stack.log())[0]["attempts"]
    assert all(a["status_code"] is None and a["error"] for a in attempts)


async def test_gives_up_after_max_attempts() -> None:
    receiver = Receiver(default_code=500)
    async with sandbox_stack(receiver, notify_max_attempts=3) as stack:
        pid = await stack.create()
        await stack.pay(pid)

        async def failed() -> bool:
            return bool((await stack.log())[0]["state"] == "failed")

        await eventually(failed)
        await asyncio.sleep(0.4)
        assert len(receiver.received) == 3
        assert [a["status_code"] for a in (await stack.log())[0]["attempts"]] == [500] * 3


async def test_payment_without_notify_url_sends_nothing(stack: Stack) -> None:
    pid = await stack.create(notify_url=None, notify_api_version=None)
    await stack.pay(pid)
    await asyncio.sleep(0.2)
    assert await stack.log() == []
    assert stack.receiver.received == []


async def test_declined_payment_is_notified_without_bank_data(stack: Stack) -> None:
    pid = await stack.create()
    await stack.pay(pid, "rejected-by-payer")
    await eventually(lambda: stack.receiver.received)
    data = json.loads(stack.receiver.received[0].body)
    assert data["payment_id"] == pid
    assert data["bank"] == ""
    assert data["conciliation_date"] == ""
    payment = await stack.khipu.get_payment(pid)
    assert payment.is_declined


async def test_drop_next_notification(stack: Stack) -> None:
    await stack.controls(drop_next=1)
    lost, kept = await stack.create(), await stack.create()
    await stack.pay(lost)
    await stack.pay(kept)
    await eventually(lambda: stack.receiver.received)
    await asyncio.sleep(0.3)
    assert [json.loads(r.body)["payment_id"] for r in stack.receiver.received] == [kept]
    states = {d["payment_id"]: (d["state"], len(d["attempts"])) for d in await stack.log()}
    assert states == {lost: ("dropped", 0), kept: ("delivered", 1)}
    # The payment itself is paid: a merchant that polls still finds out.
    assert (await stack.khipu.get_payment(lost)).is_paid


async def test_duplicate_notifications(stack: Stack) -> None:
    await stack.controls(copies=3)
    pid = await stack.create()
    await stack.pay(pid)
    await eventually(lambda: len(stack.receiver.received) == 3)
    await asyncio.sleep(0.2)
    assert len(stack.receiver.received) == 3
    assert len({r.body for r in stack.receiver.received}) == 1
    assert sorted(d["copy"] for d in await stack.log()) == [1, 2, 3]


async def test_delayed_notification(stack: Stack) -> None:
    await stack.controls(delay_seconds=0.6)
    pid = await stack.create()
    paid_at = time.monotonic()
    await stack.pay(pid)
    await asyncio.sleep(0.3)
    assert stack.receiver.received == []
    await eventually(lambda: stack.receiver.received)
    assert stack.receiver.received[0].at - paid_at >= 0.6


async def test_held_notifications_are_released_newest_first(stack: Stack) -> None:
    await stack.controls(hold=True)
    first, second, third = [await stack.create() for _ in range(3)]
    for pid in (first, second, third):
        await stack.pay(pid)
    await asyncio.sleep(0.3)
    assert stack.receiver.received == []
    assert {d["state"] for d in await stack.log()} == {"held"}
    released = await stack.http.post("/_sandbox/notifications/release")
    assert released.json() == {"released": 3}
    await eventually(lambda: len(stack.receiver.received) == 3)
    order = [json.loads(r.body)["payment_id"] for r in stack.receiver.received]
    assert order == [third, second, first]


async def test_legacy_13_notification_posts_the_token(stack: Stack) -> None:
    pid = await stack.create(notify_api_version="1.3")
    await stack.pay(pid)
    await eventually(lambda: stack.receiver.received)
    hit = stack.receiver.received[0]
    token = (await stack.khipu.get_payment(pid)).notification_token
    assert token is not None
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert hit.headers["content-type"] == "application/x-www-form-urlencoded"
    assert hit.body == f"api_version=1.3&notification_token={token}".encode()
    assert "x-khipu-signature" not in hit.headers


async def test_create_that_times_out_raises_and_is_not_resent(stack: Stack) -> None:
    fault = {"operation": "postPayment", "mode": "hang", "seconds": 1.0}
    await stack.http.post("/_sandbox/faults", json=fault)
    impatient = KhipuClient(stack.sandbox_url, API_KEY, stack.http, timeout=0.3)
    with pytest.raises(KhipuTimeout):
        await impatient.create_payment(PaymentCreateRequest(amount=5000, subject="x"))
    calls = list((await stack.http.get("/_sandbox/calls")).json())
    assert [(c["operation"], c["outcome"]) for c in calls] == [("postPayment", "hang")]

    # The server finished the request after the client gave up: the payment exists once.
    # This is why the caller, not the client, must resolve a timed-out create.
    async def created() -> list[Any]:
        listed: list[Any] = (await stack.http.get("/_sandbox/payments")).json()
        return listed

    assert len(await eventually(created)) == 1
    await asyncio.sleep(0.2)
    assert len((await stack.http.get("/_sandbox/calls")).json()) == 1


async def test_get_that_hangs_is_retried(stack: Stack) -> None:
    pid = await stack.create()
    fault = {"operation": "getPaymentById", "mode": "hang", "seconds": 1.0}
    await stack.http.post("/_sandbox/faults", json=fault)
    impatient = KhipuClient(stack.sandbox_url, API_KEY, stack.http, timeout=0.3)
    payment = await impatient.get_payment(pid)
    assert payment.payment_id == pid
    gets = [c["outcome"] for c in (await stack.http.get("/_sandbox/calls")).json()][1:]
    assert gets == ["hang", "ok"]


async def test_pending_delivery_resumes_after_sandbox_restart(tmp_path: Path) -> None:
    state = tmp_path / "khipu.sqlite3"
    receiver = Receiver(default_code=503)
    rport = free_port()
    async with sandbox_stack(receiver, rport, state_path=state, notify_max_attempts=50) as stack:
        pid = await stack.create()
        await stack.pay(pid)
        await eventually(lambda: len(receiver.received) >= 2)
    receiver.default_code = 200
    seen_before = len(receiver.received)
    async with sandbox_stack(receiver, rport, state_path=state) as restarted:
        await eventually(lambda: len(receiver.received) > seen_before)

        async def delivered() -> bool:
            return bool((await restarted.log())[0]["state"] == "delivered")

        await eventually(delivered)
        assert json.loads(receiver.received[-1].body)["payment_id"] == pid
        assert (await restarted.khipu.get_payment(pid)).is_paid
