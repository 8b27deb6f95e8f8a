"""Helpers for QuoteWorkflow tests: waiting on state, the usual steps of a quote on fake
activities (tests/quotes/fakes.py), recording histories for replay."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from marketred.schemas.payments import PaymentNotified
from marketred.schemas.quotes import (
    AcceptInput,
    CancelInput,
    ConfirmDeliveryInput,
    MarkShippedInput,
    QuoteState,
    StartPaymentInput,
)
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.quotes.fakes import FakeWorld
from tests.support.polling import eventually

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def run_lengths(client: Client, handle: WorkflowHandle[Any, Any]) -> list[int]:
    """Events of each run of the workflow, following continue-as-new from the first."""
    lengths: list[int] = []
    run_id = handle.first_execution_run_id or handle.result_run_id
    while run_id:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            break
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return lengths


async def state_of(handle: WorkflowHandle[Any, Any]) -> QuoteState:
    state: QuoteState = await handle.query("state", result_type=QuoteState)
    return state


async def wait_until(handle: WorkflowHandle[Any, Any], check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    """Poll the `state` query until `check(state)` holds (the workflow moves on its own)."""
    return await eventually(lambda: state_of(handle), check, timeout=timeout, interval=0.05)


async def notify_payment(handle: WorkflowHandle[Any, Any], world: FakeWorld) -> None:
    """Khipu's webhook for the quote's payment arrives."""
    await handle.signal(
        QuoteWorkflow.payment_notified, PaymentNotified(khipu_payment_id=world.payment_id)
    )


async def accept_and_pay(
    handle: WorkflowHandle[Any, Any], world: FakeWorld, shipping_cost: int = 3_990
) -> None:
    """The vendor accepts, the buyer starts paying, Khipu says paid: the quote is PAID."""
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=shipping_cost))
    started = await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    world.verdict = "paid"
    await notify_payment(handle, world)
    await wait_until(handle, lambda s: s.status == "PAID")
    assert started.payment_url.startswith("https://khipu.test/")


async def accept_and_hold(handle: WorkflowHandle[Any, Any], world: FakeWorld) -> None:
    """Accepted, paying, and Khipu's answer does not match: the payment is held."""
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    world.verdict = "mismatch"
    await notify_payment(handle, world)
    await wait_until(handle, lambda s: s.hold_reason is not None)


async def cancel_while_paying(handle: WorkflowHandle[Any, Any]) -> None:
    """Accepted, a payment started, then the buyer cancels before paying."""
    await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=0))
    await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
    await handle.execute_update(QuoteWorkflow.cancel, CancelInput(actor="buyer"))


async def ship_and_deliver(
    handle: WorkflowHandle[Any, Any], tracking: str = "ST1", carrier: str = "Starken"
) -> None:
    """The vendor ships and the buyer confirms delivery."""
    await handle.execute_update(
        QuoteWorkflow.mark_shipped, MarkShippedInput(carrier=carrier, tracking=tracking)
    )
    await handle.execute_update(QuoteWorkflow.confirm_delivery, ConfirmDeliveryInput())


async def complete(handle: WorkflowHandle[Any, Any], world: FakeWorld) -> None:
    """Accepted, paid, shipped and delivered: COMPLETED with the return window open."""
    await accept_and_pay(handle, world)
    await ship_and_deliver(handle, "ST1")
    await wait_until(handle, lambda s: s.status == "COMPLETED" and s.deadlines.return_by)


async def record_history(handle: WorkflowHandle[Any, Any], branch: str) -> None:
    """Add the finished workflow's history to the replay corpus when asked
    (MARKETRED_RECORD_HISTORIES=1), as tests/histories/<package version>/quote_<branch>.json,
    so the replay test guards it from then on. A recorded history is never overwritten:
    running workflows still have its shape. A history of the same branch that carries a
    `workflow.patched` marker the recorded ones lack is the new shape of that branch: it
    is added beside them as quote_<branch>+<new patch ids>.json."""
    if os.environ.get("MARKETRED_RECORD_HISTORIES") != "1":
        return
    folder = HISTORIES / version("marketred")
    history = json.loads((await handle.fetch_history()).to_json())
    patches = patch_ids(history)
    recorded = [folder / f"quote_{branch}.json", *sorted(folder.glob(f"quote_{branch}+*.json"))]
    recorded = [p for p in recorded if p.exists()]
    if not recorded:
        target = folder / f"quote_{branch}.json"
    else:
        known = set().union(*(patch_ids(json.loads(p.read_text())) for p in recorded))
        new = sorted(patches - known)
        if not new:
            return
        target = folder / f"quote_{branch}+{'+'.join(new)}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(history))


def patch_ids(history: dict[str, Any]) -> set[str]:
    """The `workflow.patched` ids a history (Temporal's JSON) carries."""
    ids = set()
    for event in history["events"]:
        marker = event.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") != "core_patch":
            continue
        for payload in marker["details"]["patch-data"]["payloads"]:
            ids.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return ids


def about(actual: timedelta, expected: timedelta) -> bool:
    """Equal to the second (activities between steps take a few workflow milliseconds)."""
    return abs(actual - expected) < timedelta(seconds=1)
