"""A new quote carries one patch marker (workflows/quote_steps.ONE_MARKER) instead of one
per patch id; histories recorded before it keep their own markers and replay
(tests/quotes/test_replay.py)."""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType

from marketred.workflows import (
    quote_acceptance,
    quote_refunds,
    quote_returns,
    quote_steps,
    quote_workflow,
)
from tests.quotes.fakes import QuoteRig
from tests.quotes.workflow_helpers import complete, patch_ids


def test_the_bundle_names_every_patch_id_of_the_quote_workflow() -> None:
    assert {
        quote_steps.LEAN_HISTORY,
        quote_steps.PUBLISH_IN_ONE,
        quote_workflow.PAYMENT_REMINDER,
        quote_acceptance.PARTIAL_ACCEPT,
        quote_acceptance.STOCK_RESERVATIONS,
        quote_returns.RETURNS_PATCH,
        quote_refunds.REFUND_HELD_PATCH,
    } == quote_steps.BUNDLED


async def test_a_completed_quote_records_one_patch_marker(quote_rig: QuoteRig) -> None:
    handle = await quote_rig.start()
    await complete(handle, quote_rig.world)  # accepted, paid, shipped, delivered
    await handle.result()  # the return window closed

    history = await handle.fetch_history()
    assert patch_ids(json.loads(history.to_json())) == {quote_steps.ONE_MARKER}
    upserts = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "TemporalChangeVersion"
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    assert len(upserts) == 1
