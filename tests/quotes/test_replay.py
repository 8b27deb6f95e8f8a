"""Recorded QuoteWorkflow histories (tests/histories/quote_*.json) replay without
non-determinism against today's code: a change that would break running quotes fails
here and needs `workflow.patched`. Re-record with MARKETRED_RECORD_HISTORIES=1."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from marketred.workflows.quote_lifecycle import QuoteWorkflow

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("quote_*.json"))
EXPECTED_BRANCHES = {
    "rejected",
    "expired",
    "buyer_cancel",
    "extended_then_expired",
    "completed",
    "payment_expired",
    "ship_overdue_refund",
    "auto_confirmed",
    "operator_refund",
    "late_payment_refund",
    "refund_held_retried",
    "refund_held_recorded",
    "late_payment_refund_held",
    "return_approved_partially",
    "return_disputed_refunded",
    "operator_partial_refunds",
}


def test_every_branch_has_a_recorded_history() -> None:
    assert {p.stem.removeprefix("quote_") for p in HISTORIES} >= EXPECTED_BRANCHES


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_deterministically(path: Path) -> None:
    replayer = Replayer(workflows=[QuoteWorkflow], data_converter=pydantic_data_converter)
    history = WorkflowHistory.from_json(f"quote-{path.stem}", path.read_text())
    await replayer.replay_workflow(history)
