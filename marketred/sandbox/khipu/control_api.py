"""Test controls under `/_sandbox/` (JSON). They exist only in the simulator."""

from __future__ import annotations

from collections import deque
from typing import Any

from fastapi import APIRouter, Request

from marketred.sandbox.khipu.controls import ControlsPatch, Fault, FaultRequest, PayRequest
from marketred.sandbox.khipu.engine import KhipuSandbox
from marketred.sandbox.khipu.records import SandboxPayment, api_view, money

router = APIRouter(prefix="/_sandbox")


def sandbox_of(request: Request) -> KhipuSandbox:
    sandbox: KhipuSandbox = request.app.state.sandbox
    return sandbox


def describe(sandbox: KhipuSandbox, p: SandboxPayment) -> dict[str, Any]:
    return {
        **api_view(p, sandbox.public_url, sandbox.receiver_id),
        "deleted": p.deleted,
        "created_at": p.created_at.isoformat(),
        "refunds": [{"amount": money(r.amount), "at": r.at.isoformat()} for r in p.refunds],
        "refundable": money(p.refundable),
    }


@router.get("/payments")
async def list_payments(request: Request) -> list[dict[str, Any]]:
    sandbox = sandbox_of(request)
    return [describe(sandbox, p) for p in sandbox.store.all_payments()]


@router.get("/payments/{payment_id}")
async def show_payment(payment_id: str, request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    return describe(sandbox, sandbox.get(payment_id))


@router.post("/payments/{payment_id}/pay")
async def pay(payment_id: str, request: Request, body: PayRequest | None = None) -> dict[str, Any]:
    """Act as the payer without a browser."""
    sandbox = sandbox_of(request)
    choice = body or PayRequest()
    if choice.report_amount is not None:
        sandbox.misreport_amount(payment_id, choice.report_amount)
    sandbox.pay(payment_id, choice.outcome, choice.verify_delay)
    return describe(sandbox, sandbox.get(payment_id))


@router.post("/payments/{payment_id}/settle")
async def settle(payment_id: str, request: Request) -> dict[str, Any]:
    """Make the payment "rendido" (settled to the merchant): Khipu refuses its refund."""
    sandbox = sandbox_of(request)
    sandbox.settle(payment_id)
    return describe(sandbox, sandbox.get(payment_id))


@router.get("/notifications")
async def notifications(request: Request) -> list[dict[str, Any]]:
    return sandbox_of(request).store.delivery_log()


@router.post("/notifications/release")
async def release(request: Request) -> dict[str, int]:
    return {"released": sandbox_of(request).notifier.release_held()}


@router.get("/controls")
async def get_controls(request: Request) -> dict[str, object]:
    return sandbox_of(request).controls.snapshot()


@router.post("/controls")
async def set_controls(patch: ControlsPatch, request: Request) -> dict[str, object]:
    controls = sandbox_of(request).controls
    for name, value in patch.model_dump(exclude_none=True).items():
        setattr(controls, name, value)
    return controls.snapshot()


@router.post("/faults")
async def add_fault(fault: FaultRequest, request: Request) -> dict[str, object]:
    controls = sandbox_of(request).controls
    queue = controls.faults.setdefault(fault.operation, deque())
    queue.extend(Fault(fault.mode, fault.seconds) for _ in range(fault.count))
    return controls.snapshot()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, object]:
    """Khipu recovers: every pending fault is dropped."""
    controls = sandbox_of(request).controls
    controls.faults.clear()
    return controls.snapshot()


@router.get("/calls")
async def calls(request: Request) -> list[dict[str, Any]]:
    """Every /v3 call received, with the injected fault if any."""
    return sandbox_of(request).store.calls()


@router.post("/reset")
async def reset(request: Request) -> dict[str, str]:
    await sandbox_of(request).reset()
    return {"message": "reset"}
