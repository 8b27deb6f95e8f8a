"""partial acceptance and stock reservations

Revision ID: 0019_stock_partial_accept
Revises: 0019_mail_outbox
Create Date: 2026-12-01 22:00:00

- `quote_lines`: a vendor may accept fewer than asked or drop a line (quantity 0), with
  `requested_quantity` (what the buyer asked for) and `change_reason`;
- `stock_reservations`: the stock an accepted quote holds for its payment window, one
  row per quote and variant (`reserved`, then `converted` by the payment or `released`
  when the quote ends unpaid).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_stock_partial_accept"
down_revision: str | Sequence[str] | None = "0019_mail_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_quote_lines_quantity"), "quote_lines", type_="check")
    op.create_check_constraint(op.f("ck_quote_lines_quantity"), "quote_lines", "quantity >= 0")
    op.add_column("quote_lines", sa.Column("requested_quantity", sa.Integer(), nullable=True))
    op.add_column("quote_lines", sa.Column("change_reason", sa.Text(), nullable=True))
    op.create_table(
        "stock_reservations",
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
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
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity")),
        sa.CheckConstraint(
            "state IN ('reserved', 'converted', 'released')",
            name=op.f("ck_stock_reservations_state"),
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_stock_reservations_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_stock_reservations_variant_id_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quote_id", "variant_id", name=op.f("pk_stock_reservations")),
    )
    op.create_index(op.f("ix_stock_reservations_variant_id"), "stock_reservations", ["variant_id"])


def downgrade() -> None:
    # Stock held by open reservations goes back to the variants before the table goes.
    op.execute(
        "UPDATE variants v SET stock = v.stock + r.quantity FROM stock_reservations r"
        " WHERE r.variant_id = v.id AND r.state = 'reserved' AND v.stock IS NOT NULL"
    )
    op.drop_index(op.f("ix_stock_reservations_variant_id"), table_name="stock_reservations")
    op.drop_table("stock_reservations")
    op.drop_column("quote_lines", "change_reason")
    op.drop_column("quote_lines", "requested_quantity")
    op.execute("DELETE FROM quote_lines WHERE quantity = 0")
    op.drop_constraint(op.f("ck_quote_lines_quantity"), "quote_lines", type_="check")
    op.create_check_constraint(op.f("ck_quote_lines_quantity"), "quote_lines", "quantity > 0")
