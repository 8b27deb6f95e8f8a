"""tokens valid after: a per-user instant before which every bearer token is dead

Revision ID: 0009_tokens_valid_after
Revises: 0008_payout_banking
Create Date: 2026-12-01 17:45:00

`users.tokens_valid_after`: JWTs issued before it are refused. A password change or
reset, a deactivation, "revoke all" and an InforedChile link or role raise set it (and
revoke the user's web sessions and personal API tokens, which have their own rows).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_tokens_valid_after"
down_revision: str | Sequence[str] | None = "0008_payout_banking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("users", "tokens_valid_after")
