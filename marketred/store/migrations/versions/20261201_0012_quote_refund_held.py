"""quote refunds: held refunds, returns, partial refunds at Khipu

Revision ID: 0012_quote_refund_held
Revises: 0018_featured_and_theme
Create Date: 2026-12-01 17:30:00

- the quote projection gains REFUND_HELD (a refund Khipu refused or nobody could
  confirm: the workflow waits for an operator), RETURN_REQUESTED (the buyer asked to
  return a delivered order; the vendor decides) and RETURN_DISPUTED (the vendor declined;
  an operator decides);
- `payment_refunds`: each partial refund of a quote's Khipu payment, written as
  `sending` before Khipu is called, unique per the workflow's refund id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_quote_refund_held"
down_revision: str | Sequence[str] | None = "0018_featured_and_theme"
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
AFTER = (*BEFORE, "REFUND_HELD", "RETURN_REQUESTED", "RETURN_DISPUTED")


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_quotes_status"), "quotes", type_="check")
    op.create_check_constraint(op.f("ck_quotes_status"), "quotes", _status_check(AFTER))
    op.create_table(
        "payment_refunds",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_refunds_amount_positive")),
        sa.CheckConstraint(
            "state IN ('sending', 'done', 'refused')", name=op.f("ck_payment_refunds_state")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_refunds_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_payment_refunds_quote_id_quotes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_payment_refunds_refund_id")),
    )


def downgrade() -> None:
    op.drop_table("payment_refunds")
    # A quote still held keeps a status the old check refuses: it goes back to the status
    # the first design left it in (cancelled, money not yet returned).
    op.execute("UPDATE quotes SET status = 'CANCELLED' WHERE status = 'REFUND_HELD'")
    op.execute(
        "UPDATE quotes SET status = 'COMPLETED'"
        " WHERE status IN ('RETURN_REQUESTED', 'RETURN_DISPUTED')"
    )
    op.drop_constraint(op.f("ck_quotes_status"), "quotes", type_="check")
    op.create_check_constraint(op.f("ck_quotes_status"), "quotes", _status_check(BEFORE))
