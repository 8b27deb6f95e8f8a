"""quote start outbox: quotes recorded whose workflow has not been started yet

Revision ID: 0021_quote_start_outbox
Revises: 0019_stock_partial_accept
Create Date: 2026-12-01 22:00:00

Quote creation no longer starts the workflow inside the request: the quote and a row
here commit together, the API starts the workflow right after the commit and sweeps
the rows left by a crash or an unreachable Temporal (docs/quotes.md, "Creation").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021_quote_start_outbox"
down_revision: str | Sequence[str] | None = "0019_stock_partial_accept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quote_start_outbox",
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("task_queue", sa.String(length=200), nullable=False),
        sa.Column("workflow_input", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.clock_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_start_outbox_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quote_id", name=op.f("pk_quote_start_outbox")),
    )


def downgrade() -> None:
    op.drop_table("quote_start_outbox")
