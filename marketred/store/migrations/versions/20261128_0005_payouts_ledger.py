"""payouts: live-item partial unique index, item dates, statement mark, sandbox transfers

Revision ID: 0005_payouts
Revises: 0004_quotes
Create Date: 2026-11-28 04:00:00

A quote is in at most one *live* payout per kind. Rejecting a payout releases its items
(`released_at` is set) so the next run can take those quotes again; the unique rule
therefore moves from a plain constraint to a partial unique index on the live rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_payouts"
down_revision: str | Sequence[str] | None = "0004_quotes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payouts", sa.Column("statement_sent_at", sa.DateTime(timezone=True)))
    op.add_column("payout_items", sa.Column("occurred_at", sa.DateTime(timezone=True)))
    op.add_column("payout_items", sa.Column("released_at", sa.DateTime(timezone=True)))
    op.drop_constraint("uq_payout_items_quote_id_kind", "payout_items", type_="unique")
    op.create_index(
        "uq_payout_items_live_quote_kind",
        "payout_items",
        ["quote_id", "kind"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_table(
        "sandbox_payout_transfers",
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="CLP", nullable=False),
        sa.Column("attempts", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["payouts.id"],
            name=op.f("fk_sandbox_payout_transfers_payout_id_payouts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_sandbox_payout_transfers_vendor_id_vendors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_payout_transfers")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_sandbox_payout_transfers_idempotency_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("sandbox_payout_transfers")
    op.drop_index("uq_payout_items_live_quote_kind", table_name="payout_items")
    op.create_unique_constraint(
        "uq_payout_items_quote_id_kind", "payout_items", ["quote_id", "kind"]
    )
    op.drop_column("payout_items", "released_at")
    op.drop_column("payout_items", "occurred_at")
    op.drop_column("payouts", "statement_sent_at")
