"""quote refund held: a refund Khipu refused or nobody could confirm waits for an operator

Revision ID: 0012_quote_refund_held
Revises: 0008_payout_banking
Create Date: 2026-12-01 17:30:00

The quote projection gains the status REFUND_HELD (the workflow stays open until an
operator retries the refund at Khipu or records one made outside it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_quote_refund_held"
down_revision: str | Sequence[str] | None = "0008_payout_banking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "REQUESTED",
    "ACCEPTED",
    "PAID",
    "SHIPPED",
    "DELIVERED",
    "COMPLETED",
    "REJECTED",
    "EXPIRED",
    "PAYMENT_EXPIRED",
    "CANCELLED",
    "REFUNDED",
)
AFTER = (*BEFORE, "REFUND_HELD")


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_quotes_status"), "quotes", type_="check")
    op.create_check_constraint(op.f("ck_quotes_status"), "quotes", _status_check(AFTER))


def downgrade() -> None:
    # A quote still held keeps a status the old check refuses: it goes back to the status
    # the first design left it in (cancelled, money not yet returned).
    op.execute("UPDATE quotes SET status = 'CANCELLED' WHERE status = 'REFUND_HELD'")
    op.drop_constraint(op.f("ck_quotes_status"), "quotes", type_="check")
    op.create_check_constraint(op.f("ck_quotes_status"), "quotes", _status_check(BEFORE))
