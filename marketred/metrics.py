"""Business metrics (Prometheus), the same names in every process.

Labels take values from fixed sets only (transition kinds, Khipu operations, outcome
words), never ids or free text: a label set grows with the code, not with the traffic.
The API serves them (with its HTTP counters) at /metrics; the worker serves them beside
the Temporal SDK's own metrics on its health port (workers/health.py). Gauges about
what waits in the database (holds, backlogs, deadlines) are refreshed by the worker
only (`ops_gauges.refresh`), so the API does not report them twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

# --- quotes ---------------------------------------------------------------------------

# Timeline kinds a quote workflow records (workflows/quote*.py); anything else counts as
# "other" so a new kind can never add an unbounded label.
TRANSITIONS = frozenset(
    {
        "requested", "reminder_sent", "accepted", "rejected", "expired", "payment_started",
        "payment_held", "payment_recheck", "payment_released", "payment_expired", "paid",
        "shipped", "ship_overdue", "delivered", "completed", "cancelling", "cancelled",
        "refunded", "late_payment_refunded", "deadline_extended", "operator_retry",
        "payment_reminder_sent",
    }
)  # fmt: skip
QUOTE_TRANSITIONS = Counter(
    "marketred_quote_transitions_total",
    "Quote timeline entries first written to the database, by kind",
    ["transition"],
)
QUOTES_PAST_DEADLINE = Gauge(
    "marketred_quotes_past_deadline",
    "Open quotes whose next deadline passed more than the grace period ago, by status",
    ["status"],
)
HOLDS_OPEN = Gauge(
    "marketred_holds_open",
    "Money held for a person: payment (quote payment held), refund (a cancel whose "
    "refund has not finished), payout (payout HELD)",
    ["kind"],
)
HOLD_OLDEST_AGE = Gauge(
    "marketred_hold_oldest_age_seconds",
    "Age of the oldest open hold of each kind (0 when none)",
    ["kind"],
)
HOLD_KINDS = ("payment", "refund", "payout")

# --- outside systems ---------------------------------------------------------------------

WEBHOOK_NOTIFICATIONS = Counter(
    "marketred_khipu_webhook_notifications_total",
    "Khipu notifications received, by outcome (bad_signature is answered 401)",
    ["outcome"],
)
KHIPU_LATENCY = Histogram(
    "marketred_khipu_request_seconds",
    "Khipu API call latency, by operation",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20),
)
KHIPU_ERRORS = Counter(
    "marketred_khipu_errors_total",
    "Khipu API calls that failed, by operation and error class",
    ["operation", "error"],
)
SMTP_LATENCY = Histogram(
    "marketred_smtp_send_seconds",
    "SMTP send latency",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)
SMTP_ERRORS = Counter("marketred_smtp_errors_total", "SMTP sends that failed", ["error"])

# --- background work -----------------------------------------------------------------

INDEXER_BACKLOG = Gauge(
    "marketred_indexer_outbox_pending", "Catalog changes not yet signalled to the indexer"
)
INDEXER_OLDEST_AGE = Gauge(
    "marketred_indexer_outbox_oldest_age_seconds",
    "Age of the oldest catalog change not yet signalled (0 when none)",
)
QUOTE_STARTS_PENDING = Gauge(
    "marketred_quote_starts_pending", "Committed quotes whose workflow has not started yet"
)
QUOTE_STARTS_OLDEST_AGE = Gauge(
    "marketred_quote_starts_oldest_age_seconds",
    "Age of the oldest committed quote still waiting for its workflow (0 when none)",
)
PAYOUT_RUNS = Counter(
    "marketred_payout_runs_total", "Payout runs that listed the vendors to pay (run started)"
)
PAYOUT_SCHEDULE_LAST = Gauge(
    "marketred_payout_schedule_last_action_timestamp_seconds",
    "When the payout schedule last started a run (Unix time; 0 when never)",
)
PAYOUT_SCHEDULE_NEXT = Gauge(
    "marketred_payout_schedule_next_action_timestamp_seconds",
    "When the payout schedule will start the next run (Unix time; 0 when paused or none)",
)
PAYOUT_SCHEDULE_PAUSED = Gauge(
    "marketred_payout_schedule_paused", "1 while an operator has the payout schedule paused"
)
OPERATOR_ACTIONS = Counter(
    "marketred_operator_quote_actions_total",
    "Operator triage actions sent to quote workflows, by action and result",
    ["action", "result"],
)


def count_transitions(kinds: list[str]) -> None:
    for kind in kinds:
        QUOTE_TRANSITIONS.labels(kind if kind in TRANSITIONS else "other").inc()


def _error_name(exc: BaseException) -> str:
    # Our own exception classes and the stdlib's: a fixed set.
    return type(exc).__name__


@contextmanager
def khipu_call(operation: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        KHIPU_ERRORS.labels(operation, _error_name(exc)).inc()
        raise
    finally:
        KHIPU_LATENCY.labels(operation).observe(time.perf_counter() - started)


@contextmanager
def smtp_send() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        SMTP_ERRORS.labels(_error_name(exc)).inc()
        raise
    finally:
        SMTP_LATENCY.observe(time.perf_counter() - started)
