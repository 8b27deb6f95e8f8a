"""Money rules: CLP is an integer number of pesos; commission is basis points, half-up."""

from __future__ import annotations

from collections.abc import Iterable

CURRENCY = "CLP"
MAX_PRICE = 1_000_000_000


def commission_for(amount: int, bps: int) -> int:
    """Half-up rounding of amount * bps / 10000 in integer arithmetic (amount >= 0)."""
    if amount < 0 or not 0 <= bps <= 10_000:
        raise ValueError("amount must be >= 0 and bps within 0..10000")
    return (amount * bps + 5_000) // 10_000


def vendor_net(amount: int, bps: int) -> int:
    return amount - commission_for(amount, bps)


def line_total(unit_price: int, quantity: int) -> int:
    return unit_price * quantity


def quote_totals(lines: Iterable[tuple[int, int]], shipping_cost: int) -> tuple[int, int]:
    """(subtotal, total) for (unit_price, quantity) lines plus shipping. The one place
    totals are computed, so API, workflow and UI never disagree."""
    subtotal = sum(line_total(price, qty) for price, qty in lines)
    return subtotal, subtotal + shipping_cost


def format_clp(amount: int) -> str:
    """`12990` → `$12.990` (Chilean thousands separator, no decimals)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,}".replace(",", ".")
