"""The replay corpus: every recorded QuoteWorkflow history, of every released version
(tests/histories/<version>/quote_*.json), replays against today's code. A change that
would break a running quote fails here, naming the history and the event; it needs
`workflow.patched` (docs/quotes.md, "Changing a running workflow"). The corpus only
grows: MARKETRED_RECORD_HISTORIES=1 adds the current version's histories and never
overwrites one."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from marketred.workflows.quote_workflow import QuoteWorkflow

CORPUS = Path(__file__).resolve().parents[1] / "histories"
HISTORIES = sorted(CORPUS.glob("*/quote_*.json"))
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
}
# Branches that exist since 0.2.0 (refund outcomes as states, returns, partial refunds).
BRANCHES_SINCE_0_2_0 = {
    "refund_held_retried",
    "refund_held_recorded",
    "late_payment_refund_held",
    "return_approved_partially",
    "return_disputed_refunded",
    "operator_partial_refunds",
    # issue 20: partial acceptance, stock reserved at acceptance
    "partial_accept_completed",
    "stock_reserved_payment_expired",
    "cancelled_while_reserving_stock",
}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_every_branch_has_a_recorded_history_in_the_first_release() -> None:
    first = {p.stem.removeprefix("quote_") for p in HISTORIES if p.parent.name == "0.1.0"}
    assert first >= EXPECTED_BRANCHES


def test_every_branch_since_0_2_0_has_a_recorded_history() -> None:
    since = {p.stem.removeprefix("quote_") for p in HISTORIES if p.parent.name == "0.2.0"}
    assert since >= BRANCHES_SINCE_0_2_0


def test_the_current_release_has_its_own_histories() -> None:
    current = version("marketred")
    assert any(p.parent.name == current for p in HISTORIES), (
        f"no tests/histories/{current}/: record them with MARKETRED_RECORD_HISTORIES=1"
    )


@pytest.mark.parametrize("path", HISTORIES, ids=[_id(p) for p in HISTORIES])
async def test_history_replays_deterministically(path: Path) -> None:
    replayer = Replayer(workflows=[QuoteWorkflow], data_converter=pydantic_data_converter)
    history = WorkflowHistory.from_json(f"quote-{path.stem}", path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        events = len(json.loads(path.read_text())["events"])
        pytest.fail(
            f"{path.relative_to(CORPUS.parent)} ({events} events) no longer replays: "
            f"{result.replay_failure}",
            pytrace=False,
        )
