"""Webhook deliveries of the simulator, with Khipu's retry-until-200 behaviour.

Khipu retries any non-200 for up to two days (reference §6.1); here the same policy runs
in compressed time: `base_delay` doubling per attempt, capped, up to `max_attempts`.
Each attempt is signed afresh with the current time over the exact bytes sent, so a
late retry still passes a receiver's 5-minute timestamp check.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from marketred.integrations.khipu import signature
from marketred.sandbox.khipu.controls import Controls
from marketred.sandbox.khipu.records import SandboxPayment, webhook_body
from marketred.sandbox.khipu.store import Delivery, SandboxStore

Spawn = Callable[[Awaitable[Any]], None]


class Notifier:
    def __init__(
        self,
        *,
        store: SandboxStore,
        controls: Controls,
        secret: str,
        receiver_id: int,
        public_url: str,
        spawn: Spawn,
        base_delay: float,
        max_delay: float,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._controls = controls
        self._secret = secret
        self._receiver_id = receiver_id
        self._public_url = public_url
        self._spawn = spawn
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_attempts = max_attempts
        self._http: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def notify(self, payment: SandboxPayment) -> None:
        """Queue the notification of a payment that just became done."""
        url = payment.opt("notify_url")
        if not url:
            return
        if payment.opt("notify_api_version") == "1.3":
            # Legacy 1.3: a form with a token the merchant exchanges for the payment (v2 API).
            content_type = "application/x-www-form-urlencoded"
            body = f"api_version=1.3&notification_token={payment.notification_token}".encode()
        else:
            content_type = "application/json"
            body = webhook_body(payment, self._public_url, self._receiver_id)
        c = self._controls
        if c.drop_next > 0:
            c.drop_next -= 1
            self._store.add_delivery(payment.payment_id, url, content_type, body, 1, "dropped")
            return
        for copy in range(1, c.copies + 1):
            state = "held" if c.hold else "pending"
            d = self._store.add_delivery(payment.payment_id, url, content_type, body, copy, state)
            if not c.hold:
                self._spawn(self._run(d, first_delay=c.delay_seconds))

    def release_held(self) -> int:
        """Send held notifications newest first, to test out-of-order arrival."""
        held = self._store.deliveries("held")
        for d in held:
            self._store.set_delivery_state(d.id, "pending")
        self._spawn(self._release_in_order(list(reversed(held))))
        return len(held)

    def resume(self) -> None:
        """After a restart, keep retrying deliveries that were still pending."""
        for d in self._store.deliveries("pending"):
            self._spawn(self._run(d, first_delay=0.0))

    async def _release_in_order(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            # The first attempt is awaited so arrival order is the release order.
            if not await self._attempt(d, 1):
                self._spawn(self._run(d, first_delay=self._backoff(1), start=2))

    async def _run(self, d: Delivery, *, first_delay: float, start: int | None = None) -> None:
        attempt = start if start is not None else self._store.attempt_count(d.id) + 1
        if first_delay:
            await asyncio.sleep(first_delay)
        while attempt <= self._max_attempts:
            if await self._attempt(d, attempt):
                return
            if attempt == self._max_attempts:
                break
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1
        self._store.set_delivery_state(d.id, "failed")

    def _backoff(self, attempt: int) -> float:
        return float(min(self._base_delay * 2 ** (attempt - 1), self._max_delay))

    async def _attempt(self, d: Delivery, attempt: int) -> bool:
        headers = {"content-type": d.content_type, "user-agent": "khipu-sandbox/3.0"}
        header: str | None = None
        if d.content_type == "application/json":
            header = signature.sign(self._secret, int(time.time() * 1000), d.body)
            headers[signature.HEADER] = header
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        try:
            response = await self._http.post(d.url, content=d.body, headers=headers)
        except httpx.HTTPError as exc:
            self._store.add_attempt(d.id, attempt, None, repr(exc), header)
            return False
        self._store.add_attempt(d.id, attempt, response.status_code, None, header)
        if response.status_code == 200:
            self._store.set_delivery_state(d.id, "delivered")
            return True
        return False
