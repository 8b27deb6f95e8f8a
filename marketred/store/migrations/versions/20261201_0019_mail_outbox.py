"""mail outbox: a quote mail is claimed (committed) before the mail server is called

Revision ID: 0019_mail_outbox
Revises: 0012_quote_refund_held
Create Date: 2026-12-01 21:45:00

`quote_notifications` becomes the quote mail outbox (services/quotes/notifications.py): a row
is written `sending` with the mail's Message-ID and committed, the mail server is called
outside any transaction, then the row is marked `sent`. A retry that finds `sending`
sends again with the same Message-ID. Rows from before were all sent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_mail_outbox"
down_revision: str | Sequence[str] | None = "0012_quote_refund_held"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "quote_notifications"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("state", sa.String(length=8), nullable=True))
    op.add_column(TABLE, sa.Column("message_id", sa.String(length=300), nullable=True))
    op.add_column(
        TABLE,
        sa.Column(
            "claimed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.execute(f"UPDATE {TABLE} SET state = 'sent', claimed_at = sent_at")
    op.alter_column(TABLE, "state", nullable=False)
    op.create_check_constraint(
        op.f("ck_quote_notifications_state"), TABLE, "state IN ('sending', 'sent')"
    )
    op.alter_column(TABLE, "sent_at", nullable=True, server_default=None)


def downgrade() -> None:
    # The first design knew only sent mails: an unfinished claim is dropped, so the
    # retried activity sends it (with the same Message-ID).
    op.execute(f"DELETE FROM {TABLE} WHERE state = 'sending'")
    op.execute(f"UPDATE {TABLE} SET sent_at = claimed_at WHERE sent_at IS NULL")
    op.alter_column(TABLE, "sent_at", nullable=False, server_default=sa.text("now()"))
    op.drop_constraint(op.f("ck_quote_notifications_state"), TABLE, type_="check")
    op.drop_column(TABLE, "claimed_at")
    op.drop_column(TABLE, "message_id")
    op.drop_column(TABLE, "state")
