"""The simulated Khipu account: payments and their state machine.

pending/pending --payer pays--> verifying/pending --verified--> done/normal
Tests may end a payment as done/rejected-by-payer, done/marked-as-abuse or
done/marked-paid-by-receiver; a full refund turns done/normal into done/reversed.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from marketred.sandbox.khipu.controls import Controls
from marketred.sandbox.khipu.notifier import Notifier
from marketred.sandbox.khipu.records import (
    DEMO_BANK_ID,
    DEMO_BANK_NAME,
    Refund,
    SandboxPayment,
)
from marketred.sandbox.khipu.store import SandboxStore
from marketred.sandbox.khipu.validation import (
    SandboxApiError,
    invalid,
    parse_date,
    validate_create,
    validate_refund,
)

ID_ALPHABET = string.ascii_lowercase + string.digits
DEFAULT_EXPIRY = timedelta(days=30)  # UNCONFIRMED default when the merchant sends none
BANKS: list[dict[str, Any]] = [
    {
        "bank_id": DEMO_BANK_ID,
        "name": DEMO_BANK_NAME,
        "message": "Banco de pruebas del modo desarrollador",
        "min_amount": 200,
        "type": "Persona",
        "parent": "",
        "logo_url": "",
    }
]
PAYMENT_METHODS = [
    {"id": "SIMPLIFIED_TRANSFER", "name": "Transferencia simplificada", "logo_url": ""},
    {"id": "REGULAR_TRANSFER", "name": "Transferencia normal", "logo_url": ""},
]
FINAL_DETAILS = ("normal", "rejected-by-payer", "marked-as-abuse", "marked-paid-by-receiver")


def new_payment_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


def not_found() -> SandboxApiError:
    return SandboxApiError(404, "Pago no encontrado")


class KhipuSandbox:
    def __init__(
        self,
        *,
        store: SandboxStore,
        controls: Controls,
        api_key: str,
        secret: str,
        receiver_id: int,
        public_url: str,
        notify_base_delay: float,
        notify_max_delay: float,
        notify_max_attempts: int,
    ) -> None:
        self.store = store
        self.controls = controls
        self.api_key = api_key
        self.receiver_id = receiver_id
        self.public_url = public_url.rstrip("/")
        self._tasks: set[asyncio.Task[Any]] = set()
        self.notifier = Notifier(
            store=store,
            controls=controls,
            secret=secret,
            receiver_id=receiver_id,
            public_url=self.public_url,
            spawn=self.spawn,
            base_delay=notify_base_delay,
            max_delay=notify_max_delay,
            max_attempts=notify_max_attempts,
        )

    # background work --------------------------------------------------------------------
    def spawn(self, work: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.notifier.aclose()

    def resume(self) -> None:
        """Restart timers cut short by a restart: verifications and pending deliveries."""
        now = datetime.now(UTC)
        for p in self.store.all_payments():
            if p.status == "verifying" and p.conciliate_at is not None:
                delay = max(0.0, (p.conciliate_at - now).total_seconds())
                self.spawn(self._conciliate_later(p.payment_id, delay))
        self.notifier.resume()

    async def reset(self) -> None:
        await self.stop()
        self.store.reset()
        fresh = Controls()
        for name in ("drop_next", "copies", "delay_seconds", "hold", "faults"):
            setattr(self.controls, name, getattr(fresh, name))

    # API operations ----------------------------------------------------------------------
    def create(self, data: dict[str, Any]) -> SandboxPayment:
        validate_create(data, {b["bank_id"] for b in BANKS})
        now = datetime.now(UTC)
        expires = parse_date(data.get("expires_date")) or now + DEFAULT_EXPIRY
        optional = {
            k: v
            for k, v in data.items()
            if k not in ("amount", "currency", "subject", "expires_date") and v is not None
        }
        payment_id = new_payment_id()
        while self.store.get(payment_id) is not None:
            payment_id = new_payment_id()
        payment = SandboxPayment(
            payment_id=payment_id,
            created_at=now,
            notification_token=secrets.token_hex(32),
            amount=Decimal(data["amount"]),
            currency=data["currency"],
            subject=data["subject"],
            expires_date=expires,
            fields=optional,
        )
        self.store.save(payment)
        return payment

    def get(self, payment_id: str) -> SandboxPayment:
        payment = self.store.get(payment_id)
        if payment is None or payment.deleted:
            raise not_found()
        return payment

    def delete(self, payment_id: str) -> None:
        payment = self.get(payment_id)
        if payment.status != "pending":
            raise SandboxApiError(400, "Solo se pueden borrar pagos pendientes de pago")
        payment.deleted = True
        self.store.save(payment)

    def settle(self, payment_id: str) -> None:
        """Khipu transferred ("rindió") the payment to the merchant: from now on a refund
        is refused ("El pago ya fue rendido"), as happens a business day after paying."""
        payment = self.get(payment_id)
        payment.fields["confirm_timeout_date"] = datetime.now(UTC).isoformat()
        self.store.save(payment)

    def refund(self, payment_id: str, data: dict[str, Any]) -> Decimal:
        payment = self.get(payment_id)
        requested = validate_refund(data, payment.currency)
        if not payment.paid_normally:
            raise SandboxApiError(400, "Solo se pueden reembolsar pagos conciliados")
        deadline = parse_date(payment.opt("confirm_timeout_date"))
        if deadline is not None and datetime.now(UTC) >= deadline:
            raise SandboxApiError(400, "El pago ya fue rendido; no se puede reembolsar")
        amount = payment.refundable if requested is None else requested
        if amount > payment.refundable:
            raise invalid(
                [{"field": "amount", "message": f"Máximo reembolsable: {payment.refundable}"}]
            )
        payment.refunds.append(Refund(amount=amount, at=datetime.now(UTC)))
        if payment.refundable == 0:
            payment.status_detail = "reversed"
        self.store.save(payment)
        return amount

    # payer actions -----------------------------------------------------------------------
    def is_expired(self, payment: SandboxPayment) -> bool:
        return datetime.now(UTC) > payment.expires_date

    def misreport_amount(self, payment_id: str, amount: int) -> None:
        """From now on this payment reads back with `amount` (Khipu answering wrong)."""
        payment = self.get(payment_id)
        payment.amount = Decimal(amount)
        self.store.save(payment)

    def pay(self, payment_id: str, outcome: str, verify_delay: float | None = None) -> None:
        """Act as the payer. `outcome` is a final status_detail, or "verifying" to stop there."""
        payment = self.get(payment_id)
        if payment.status == "done":
            raise SandboxApiError(400, "El pago ya fue completado")
        if self.is_expired(payment):
            raise SandboxApiError(400, "El cobro expiró")
        delay = self.controls.verify_delay if verify_delay is None else verify_delay
        if outcome in ("rejected-by-payer", "marked-as-abuse"):
            # Declining skips verification: the payer never transferred anything.
            self._finish(payment, outcome)
            return
        payment.status = "verifying"
        payment.pending_outcome = "normal" if outcome == "verifying" else outcome
        if outcome != "verifying" and delay > 0:
            payment.conciliate_at = datetime.now(UTC) + timedelta(seconds=delay)
            self.spawn(self._conciliate_later(payment_id, delay))
        self.store.save(payment)
        if outcome != "verifying" and delay <= 0:
            self._finish(payment, outcome)

    async def _conciliate_later(self, payment_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        payment = self.store.get(payment_id)
        if payment is not None and payment.status == "verifying":
            self._finish(payment, payment.pending_outcome)

    def _finish(self, payment: SandboxPayment, detail: str) -> None:
        if detail not in FINAL_DETAILS:
            raise SandboxApiError(400, f"Resultado desconocido: {detail}")
        payment.status = "done"
        payment.status_detail = detail
        payment.conciliate_at = None
        if detail in ("normal", "marked-paid-by-receiver"):
            payment.conciliation_date = datetime.now(UTC)
        self.store.save(payment)
        self.notifier.notify(payment)
