"""The pure rules of a partial acceptance (workflows/quote_rules.py) and the stock items
an acceptance reserves."""

from __future__ import annotations

import uuid

from marketred.schemas.quotes import (
    AcceptInput,
    LinePriceChange,
    QuoteLine,
    QuoteRunState,
    ReserveStockResult,
    StockShortage,
    totals_of,
)
from marketred.workflows import quote_rules as rules

TRACKED = uuid.uuid4()


def _state() -> QuoteRunState:
    return QuoteRunState(
        lines=[
            QuoteLine(position=0, variant_id=TRACKED, product_name="Café", variant_label="1 kg",
                      sku="CAF-1K", quantity=3, original_unit_price=20_000, unit_price=20_000),
            QuoteLine(position=1, product_name="Taza", sku="TAZ", quantity=2,
                      original_unit_price=5_000, unit_price=5_000),
        ]
    )  # fmt: skip


def _problem(*changes: LinePriceChange, shipping: int = 0) -> tuple[str, str] | None:
    return rules.accept_input_problem(
        _state(), AcceptInput(shipping_cost=shipping, lines=list(changes))
    )


def test_lower_quantity_drop_and_price_change_make_the_new_total() -> None:
    lines = rules.accepted_lines(
        _state().lines,
        [
            LinePriceChange(position=0, quantity=1, reason="queda 1", unit_price=18_000),
            LinePriceChange(position=1, quantity=0, reason="sin tazas"),
        ],
    )
    assert [(ln.quantity, ln.requested_quantity, ln.change_reason) for ln in lines] == [
        (1, 3, "queda 1"),
        (0, 2, "sin tazas"),
    ]
    assert totals_of(lines, 2_000) == (18_000, 20_000)


def test_an_unchanged_quantity_records_no_change_and_needs_no_reason() -> None:
    lines = rules.accepted_lines(_state().lines, [LinePriceChange(position=0, quantity=3)])
    assert (lines[0].requested_quantity, lines[0].change_reason) == (None, None)
    assert _problem(LinePriceChange(position=0, quantity=3)) is None


def test_bad_input_names_the_field() -> None:
    more = _problem(LinePriceChange(position=1, quantity=3, reason="x"))
    assert more == ("lines[0].quantity", "line 1: at most the 2 the buyer asked for")
    no_reason = _problem(
        LinePriceChange(position=0, unit_price=1), LinePriceChange(position=0, quantity=1)
    )
    assert no_reason is not None
    assert no_reason[0] == "lines[1].position"  # the same line twice
    assert _problem(LinePriceChange(position=1, quantity=1))[0] == "lines[0].reason"  # type: ignore[index]
    everything = _problem(
        LinePriceChange(position=0, quantity=0, reason="a"),
        LinePriceChange(position=1, quantity=0, reason="b"),
        shipping=5_000,
    )
    assert everything is not None
    assert everything[0] == "lines"
    free = _problem(
        LinePriceChange(position=0, unit_price=0), LinePriceChange(position=1, unit_price=0)
    )
    assert free is not None
    assert free[0] == "shipping_cost"


def test_stock_items_skip_dropped_lines_and_lines_without_a_variant() -> None:
    lines = rules.accepted_lines(
        _state().lines, [LinePriceChange(position=0, quantity=2, reason="r")]
    )
    items = rules.stock_items(lines)
    assert [(i.variant_id, i.quantity, i.label) for i in items] == [
        (TRACKED, 2, "Café (1 kg), SKU CAF-1K")
    ]
    dropped = rules.accepted_lines(
        _state().lines, [LinePriceChange(position=0, quantity=0, reason="r")]
    )
    assert rules.stock_items(dropped) == []
    short = ReserveStockResult(
        short=[StockShortage(position=0, label=items[0].label, requested=2, available=1)]
    )
    assert rules.shortage_message(short) == (
        "lines",
        "line 0, not enough stock for Café (1 kg), SKU CAF-1K: 1 available, 2 accepted; "
        "lower the quantity",
    )


def test_a_reservation_in_progress_keeps_other_decisions_out() -> None:
    state = _state()
    state.accepting = True
    assert rules.accept(state, AcceptInput(shipping_cost=0)) == rules.NOT_AWAITING_VENDOR
    assert rules.reject(state) == rules.NOT_AWAITING_VENDOR
