"""Fault switches for tests. Kept in memory: a restart clears them, payments survive."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

FaultMode = Literal["error", "hang"]
OPERATIONS = (
    "postPayment",
    "getPaymentById",
    "deletePaymentById",
    "postPaymentRefundsById",
    "postPaymentConfirmById",
    "getBanks",
    "getPredict",
    "getMerchantPaymentMethodsById",
    "postReceiver",
)


@dataclass
class Fault:
    mode: FaultMode
    seconds: float


@dataclass
class Controls:
    drop_next: int = 0  # the next N notifications are lost: never sent
    copies: int = 1  # each notification is delivered this many times
    delay_seconds: float = 0.0  # wait before the first attempt of each notification
    hold: bool = False  # keep notifications until release, then send newest first
    verify_delay: float = 0.0  # seconds a paid payment stays "verifying"
    faults: dict[str, deque[Fault]] = field(default_factory=dict)

    def take_fault(self, operation: str) -> Fault | None:
        queue = self.faults.get(operation)
        return queue.popleft() if queue else None

    def snapshot(self) -> dict[str, object]:
        return {
            "drop_next": self.drop_next,
            "copies": self.copies,
            "delay_seconds": self.delay_seconds,
            "hold": self.hold,
            "verify_delay": self.verify_delay,
            "faults": {
                op: [{"mode": f.mode, "seconds": f.seconds} for f in queue]
                for op, queue in self.faults.items()
                if queue
            },
        }


class ControlsPatch(BaseModel):
    """Body of POST /_sandbox/controls; only the given switches change."""

    drop_next: int | None = Field(default=None, ge=0)
    copies: int | None = Field(default=None, ge=1, le=20)
    delay_seconds: float | None = Field(default=None, ge=0)
    hold: bool | None = None
    verify_delay: float | None = Field(default=None, ge=0)


class FaultRequest(BaseModel):
    """Body of POST /_sandbox/faults: the next `count` calls of `operation` fail."""

    operation: Literal[OPERATIONS]  # type: ignore[valid-type]
    mode: FaultMode = "error"
    count: int = Field(default=1, ge=1)
    seconds: float = Field(default=30.0, ge=0)  # how long a "hang" holds the answer


class PayRequest(BaseModel):
    """Body of POST /_sandbox/payments/{id}/pay: act as the payer."""

    outcome: Literal[
        "normal",
        "rejected-by-payer",
        "marked-as-abuse",
        "marked-paid-by-receiver",
        "verifying",
    ] = "normal"
    verify_delay: float | None = Field(default=None, ge=0)
    # Khipu misreporting: the payment reads back with this amount instead of the one
    # asked (a paid quote is then held for an operator). Demo data and tests only.
    report_amount: int | None = Field(default=None, ge=1)
