"""quote notifications: one row per quote mail sent (idempotent sending)

Revision ID: 0004_quotes
Revises: 0003_catalog
Create Date: 2026-11-28 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_quotes"
down_revision: str | Sequence[str] | None = "0003_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quote_notifications",
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_notifications_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_notifications")),
        sa.UniqueConstraint("quote_id", "key", name=op.f("uq_quote_notifications_quote_id_key")),
    )


def downgrade() -> None:
    op.drop_table("quote_notifications")
