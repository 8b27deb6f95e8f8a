"""Quote use cases in one import for handlers (the work lives in quotes_* modules)."""

from __future__ import annotations

from marketred.services.quotes.commands import (
    accept_quote,
    cancel_quote,
    confirm_delivery,
    decide_return,
    extend_deadline,
    recheck_payment,
    record_refund,
    refund_part,
    reject_quote,
    request_return,
    retry_now,
    retry_refund,
    ship_quote,
    start_payment,
)
from marketred.services.quotes.creation import create_quote
from marketred.services.quotes.queries import get_quote, list_quotes

__all__ = [
    "accept_quote",
    "cancel_quote",
    "confirm_delivery",
    "create_quote",
    "decide_return",
    "extend_deadline",
    "get_quote",
    "list_quotes",
    "recheck_payment",
    "record_refund",
    "refund_part",
    "reject_quote",
    "request_return",
    "retry_now",
    "retry_refund",
    "ship_quote",
    "start_payment",
]
