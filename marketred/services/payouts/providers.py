"""How money reaches a vendor: the `PayoutProvider` interface and its two providers.

A provider answers one of:
- `TransferResult("confirmed", ref)`: the money left (an API provider that says so);
- `TransferResult("submitted", ref)`: handed over for a person to execute (a bank
  file): the payout waits until an operator confirms the bank executed it;
- raises `TransferNotSent`: certainly nothing was sent (unreachable, refused before
  sending): the step may be retried;
- raises `TransferUncertain` (or anything else): it may or may not have been sent: the
  payout is held for a person, never retried blindly and never released.

`repeat_safe` says whether a transfer that may already have reached the provider can be
asked again and will answer the same (the bank file: the line is ours, unique per payout).
An outside provider without a way to ask "did this key go through?" is not: after a
crash mid-call its payout is held.

- `SandboxPayoutProvider` (dev and tests): records the transfer in
  `sandbox_payout_transfers` (unique per idempotency key, moves no money) and confirms.
  Files under `<MARKETRED_HOME>/sandbox/` make it misbehave, for tests and demos:
  `payout-hold` (after recording, wait heartbeating until the file is removed: a worker
  can be killed mid-transfer), `payout-unreachable` (TransferNotSent before recording),
  `payout-maybe` (record, then TransferUncertain).
- `BankFilePayoutProvider` (production): adds the payout's line to its run's bank file in
  PostgreSQL (services/payouts/bank_files.py) and answers `submitted`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.services.payouts import bank_files as payout_bank_files
from marketred.settings import Settings
from marketred.store.repositories import payouts as repo
from marketred.store.session import transaction


@dataclass(frozen=True)
class TransferRequest:
    idempotency_key: str
    payout_id: uuid.UUID
    run_workflow_id: str
    vendor_id: uuid.UUID
    amount: int
    currency: str
    reference: str


@dataclass(frozen=True)
class TransferResult:
    outcome: Literal["confirmed", "submitted"]
    reference: str


class TransferNotSent(Exception):
    """Certainly nothing was sent: safe to try again."""


class TransferUncertain(Exception):
    """It may or may not have been sent: a person must find out."""


class PayoutProvider(Protocol):
    repeat_safe: bool

    async def transfer(self, request: TransferRequest) -> TransferResult:
        """Send `amount` to the vendor once per idempotency key."""
        ...


def sandbox_marker(settings: Settings, name: str) -> Path:
    return settings.home / "sandbox" / name


def hold_marker(settings: Settings) -> Path:
    return sandbox_marker(settings, "payout-hold")


class SandboxPayoutProvider:
    # Like most outside APIs seen from a crashed caller: we cannot ask whether an
    # interrupted call went through, so an interrupted transfer is held.
    repeat_safe = False

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        folder: Path | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._folder = folder
        self._on_wait = on_wait

    def _marked(self, name: str) -> bool:
        return self._folder is not None and (self._folder / name).exists()

    async def transfer(self, request: TransferRequest) -> TransferResult:
        if self._marked("payout-unreachable"):
            raise TransferNotSent("sandbox bank unreachable (connection refused)")
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
        # unfinished, the case the payout's held state exists for.
        while self._marked("payout-hold"):
            if self._on_wait:
                self._on_wait()
            await asyncio.sleep(0.2)
        if self._marked("payout-maybe"):
            raise TransferUncertain("sandbox bank timed out after accepting the request")
        return TransferResult("confirmed", ref)


class BankFilePayoutProvider:
    repeat_safe = True  # the line is unique per payout: asking again finds it

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def transfer(self, request: TransferRequest) -> TransferResult:
        async with transaction(self._sessions) as session:
            bank_file = await payout_bank_files.add_line(
                session, request.payout_id, request.run_workflow_id, request.amount
            )
        return TransferResult("submitted", f"nomina-{bank_file.id}")


def provider_for(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    on_wait: Callable[[], None] | None = None,
) -> PayoutProvider:
    if settings.payout_provider_name == "bank_file":
        return BankFilePayoutProvider(sessions)
    return SandboxPayoutProvider(sessions, settings.home / "sandbox", on_wait)
