"""How money reaches a vendor: the `PayoutProvider` interface and its two providers.

- `SandboxPayoutProvider` (dev and tests): records the transfer in
  `sandbox_payout_transfers`, unique per idempotency key, and moves no money. If the file
  `<MARKETRED_HOME>/sandbox/payout-hold` exists it then waits (heartbeating) until the file
  is removed: tests use it to kill a worker while a transfer is in flight.
- `BankFilePayoutProvider` (production): writes one bank transfer file per payout
  (`<home>/payouts/bank-files/<key>.csv`, the "nómina" the treasurer uploads to the
  bank); written once, atomically, so a retry finds the same file.

Every call carries the payout's idempotency key: a provider must treat a repeat as the
same transfer, which is what keeps a crashed-and-retried step from paying twice.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.settings import Settings
from marketred.store.repositories import payouts as repo
from marketred.store.session import transaction


@dataclass(frozen=True)
class TransferRequest:
    idempotency_key: str
    payout_id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_name: str
    vendor_rut: str
    vendor_email: str | None
    amount: int
    currency: str
    reference: str


class PayoutProvider(Protocol):
    async def transfer(self, request: TransferRequest) -> str:
        """Send `amount` to the vendor once per idempotency key; return the provider's ref."""
        ...


def hold_marker(settings: Settings) -> Path:
    return settings.home / "sandbox" / "payout-hold"


class SandboxPayoutProvider:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hold_file: Path | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._hold_file = hold_file
        self._on_wait = on_wait

    async def transfer(self, request: TransferRequest) -> str:
        async with transaction(self._sessions) as session:
            record = await repo.record_sandbox_transfer(
                session,
                idempotency_key=request.idempotency_key,
                payout_id=request.payout_id,
                vendor_id=request.vendor_id,
                amount=request.amount,
            )
            ref = f"sandbox-{record.id}"
        # The transfer is recorded: from here a crash leaves money "sent" with the step
        # unfinished, the case the idempotency key exists for.
        while self._hold_file is not None and self._hold_file.exists():
            if self._on_wait:
                self._on_wait()
            await asyncio.sleep(0.2)
        return ref


class BankFilePayoutProvider:
    HEADER = ("RUT beneficiario", "Nombre", "Monto", "Moneda", "Referencia", "Email aviso")

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    async def transfer(self, request: TransferRequest) -> str:
        path = self._folder / f"{request.idempotency_key}.csv"
        if not path.exists():
            await asyncio.to_thread(self._write, path, request)
        return f"bankfile:{path.name}"

    def _write(self, path: Path, request: TransferRequest) -> None:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(self.HEADER)
        writer.writerow(
            (
                request.vendor_rut,
                request.vendor_name,
                request.amount,
                request.currency,
                request.reference,
                request.vendor_email or "",
            )
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a reader never sees half a file


def provider_for(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    on_wait: Callable[[], None] | None = None,
) -> PayoutProvider:
    if settings.env == "production":
        return BankFilePayoutProvider(settings.home / "payouts" / "bank-files")
    return SandboxPayoutProvider(sessions, hold_marker(settings), on_wait)
