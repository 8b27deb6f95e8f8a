"""Helpers for QuoteWorkflow tests: waiting on state, recording histories for replay."""

from __future__ import annotations

import os
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from marketred.schemas.quotes import QuoteState
from tests.support.polling import eventually

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def state_of(handle: WorkflowHandle[Any, Any]) -> QuoteState:
    state: QuoteState = await handle.query("state", result_type=QuoteState)
    return state


async def wait_until(handle: WorkflowHandle[Any, Any], check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    """Poll the `state` query until `check(state)` holds (the workflow moves on its own)."""
    return await eventually(lambda: state_of(handle), check, timeout=timeout, interval=0.05)


async def record_history(handle: WorkflowHandle[Any, Any], branch: str) -> None:
    """Add the finished workflow's history to the replay corpus when asked
    (MARKETRED_RECORD_HISTORIES=1), as tests/histories/<package version>/quote_<branch>.json,
    so the replay test guards it from then on. A recorded history is never overwritten:
    running workflows still have its shape."""
    if os.environ.get("MARKETRED_RECORD_HISTORIES") != "1":
        return
    target = HISTORIES / version("marketred") / f"quote_{branch}.json"
    if target.exists():
        return
    history = await handle.fetch_history()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(history.to_json())


def about(actual: timedelta, expected: timedelta) -> bool:
    """Equal to the second (activities between steps take a few workflow milliseconds)."""
    return abs(actual - expected) < timedelta(seconds=1)
