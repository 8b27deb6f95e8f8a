"""data subject keys: per-buyer data keys for the payload codec; erased accounts

Revision ID: 0013_data_subject_keys
Revises: 0010_search_at_scale
Create Date: 2026-12-01 17:45:00

- `data_subject_keys`: one AES-256 key per buyer, wrapped by a codec master key;
  `wrapped_key` becomes NULL when the buyer deletes the account (crypto-shredding);
- `users.erased_at`: when the person deleted the account (the row stays, pseudonymised).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_data_subject_keys"
down_revision: str | Sequence[str] | None = "0010_search_at_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_subject_keys",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_key_id", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["users.id"],
            name=op.f("fk_data_subject_keys_subject_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_data_subject_keys")),
    )
    op.add_column("users", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "erased_at")
    op.drop_table("data_subject_keys")
