"""What each party may do with a quote, computed once (schemas/quotes.allowed_actions) from
the state the workflow mirrors; the pages and the API read it instead of re-deriving."""

from __future__ import annotations

import pytest

from marketred.schemas.quotes import FINAL_STATUSES, allowed_actions


def _actions(status: str, **facts: object) -> set[tuple[str, str]]:
    base: dict[str, object] = {
        "hold_reason": None,
        "ship_overdue": False,
        "response_extended": False,
        "pending_deadline": None,
    }
    base.update(facts)
    return {(a.by, a.name) for a in allowed_actions(status, **base)}  # type: ignore[arg-type]


def test_requested_the_vendor_decides_once_may_extend_and_the_buyer_may_cancel() -> None:
    assert _actions("REQUESTED", pending_deadline="respond_by") == {
        ("vendor", "accept"),
        ("vendor", "reject"),
        ("vendor", "extend_response"),
        ("buyer", "cancel"),
        ("operator", "cancel"),
        ("operator", "extend_deadline"),
    }
    extended = _actions("REQUESTED", pending_deadline="respond_by", response_extended=True)
    assert ("vendor", "extend_response") not in extended


def test_a_held_payment_is_for_an_operator_only() -> None:
    held = _actions("ACCEPTED", hold_reason="amount differs", pending_deadline=None)
    assert held == {("operator", "recheck_payment"), ("operator", "cancel")}
    assert ("buyer", "pay") in _actions("ACCEPTED", pending_deadline="pay_by")


def test_the_buyer_may_cancel_with_refund_only_once_shipping_is_overdue() -> None:
    assert ("buyer", "cancel_with_refund") not in _actions("PAID", pending_deadline="ship_by")
    overdue = _actions("PAID", ship_overdue=True)
    assert ("buyer", "cancel_with_refund") in overdue
    assert ("vendor", "ship") in overdue
    assert ("operator", "extend_deadline") not in overdue  # no deadline runs any more


def test_delivered_is_being_completed() -> None:
    assert _actions("DELIVERED") == set()
    assert ("buyer", "confirm_delivery") in _actions("SHIPPED", pending_deadline="auto_confirm_at")


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_an_ended_quote_offers_nothing(status: str) -> None:
    assert _actions(status) == set()
