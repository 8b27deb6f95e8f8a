"""vendor settings: the log of every change to a vendor's settings (who, when, what)

Revision ID: 0011_vendor_settings
Revises: 0014_quote_triage
Create Date: 2026-12-01 18:00:00

Vendors set their contact, deadlines and description in the back office; operators set
commission and active in the console. Each change is a `vendor_changes` row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_vendor_settings"
down_revision: str | Sequence[str] | None = "0014_quote_triage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vendor_changes",
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_by_email", sa.String(length=320), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["users.id"],
                                name=op.f("fk_vendor_changes_changed_by_users")),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendors.id"], ondelete="CASCADE",
                                name=op.f("fk_vendor_changes_vendor_id_vendors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_changes")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_vendor_changes_vendor_id"), "vendor_changes", ["vendor_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_vendor_changes_vendor_id"), table_name="vendor_changes")
    op.drop_table("vendor_changes")
