"""indexer outbox: catalog changes the directory's indexer has not been told about yet

Revision ID: 0006_indexer_outbox
Revises: 0005_payouts
Create Date: 2026-11-28 10:30:00

A row is written in the transaction that changes a product and removed once the
product's indexer workflow was signalled; the worker sweeps what is left (a crash after
the commit, Temporal unreachable), so no catalog change is lost to the directory.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_indexer_outbox"
down_revision: str | Sequence[str] | None = "0005_payouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indexer_outbox",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.clock_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_indexer_outbox")),
    )


def downgrade() -> None:
    op.drop_table("indexer_outbox")
