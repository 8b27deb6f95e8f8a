"""quote triage: what a quote waits for, its last error and the facts its actions need

Revision ID: 0014_quote_triage
Revises: 0013_data_subject_keys
Create Date: 2026-12-01 18:00:00

The projection now mirrors from the workflow's state what the console and the API show
without asking Temporal: `waiting_for`, `last_error` (a step retrying), `ship_overdue`
(the vendor missed the ship-by date: the buyer may cancel with refund) and
`response_extended` (the vendor used its one extension). The two flags are backfilled
from the timeline; allowed actions are computed from these columns by one function
(schemas/quotes.allowed_actions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_quote_triage"
down_revision: str | Sequence[str] | None = "0013_data_subject_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quotes", sa.Column("waiting_for", sa.Text(), nullable=True))
    op.add_column("quotes", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column(
        "quotes", sa.Column("ship_overdue", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "quotes",
        sa.Column("response_extended", sa.Boolean(), server_default="false", nullable=False),
    )
    op.execute(
        """
        UPDATE quotes q SET ship_overdue = true
        WHERE q.status = 'PAID'
          AND EXISTS (SELECT 1 FROM quote_events e
                      WHERE e.quote_id = q.id AND e.kind = 'ship_overdue')
        """
    )
    op.execute(
        """
        UPDATE quotes q SET response_extended = true
        WHERE EXISTS (SELECT 1 FROM quote_events e
                      WHERE e.quote_id = q.id AND e.kind = 'deadline_extended'
                        AND e.actor = 'vendor')
        """
    )


def downgrade() -> None:
    op.drop_column("quotes", "response_extended")
    op.drop_column("quotes", "ship_overdue")
    op.drop_column("quotes", "last_error")
    op.drop_column("quotes", "waiting_for")
