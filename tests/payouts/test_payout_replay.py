"""Recorded payout workflow histories (tests/histories/payout_*.json) replay without
non-determinism against today's code; a breaking change needs `workflow.patched`.
New histories are recorded by MARKETRED_RECORD_HISTORIES=1 pytest tests/payouts/ (a file
that exists is never rewritten: the corpus only grows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("payout_*.json"))


def test_every_payout_branch_has_a_recorded_history() -> None:
    assert {p.stem.removeprefix("payout_") for p in HISTORIES} >= {
        "run",
        "approved",
        "rejected",
        "held_released",
        "held_confirmed",
        "missing_bank_details_then_paid",
        "submitted_confirmed",
        "submitted_released",
        "provider_confirmed",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_payout_history_replays_deterministically(path: Path) -> None:
    replayer = Replayer(
        workflows=[PayoutWorkflow, VendorPayoutWorkflow], data_converter=pydantic_data_converter
    )
    recorded = json.loads(path.read_text())
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    await replayer.replay_workflow(history)
