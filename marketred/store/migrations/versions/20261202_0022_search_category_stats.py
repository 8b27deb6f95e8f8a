"""search category statistics: expression statistics on lower(category)

Revision ID: 0022_search_category_stats
Revises: 0021_quote_start_outbox
Create Date: 2026-12-02 01:25:00

Search filters categories as `lower(p.category) = lower(:category)`. Without statistics
on that expression the planner guessed 0.5 % of the products; for "jabon natural" in
"Cosmética" (1,077 name matches, all in that category) it then put `vendors` outside a
Materialize of the text matches and rescanned them per vendor (~10 ms of 14 under load).
With the expression's statistics it hashes the 200 vendors and stops after the first
201 matches (docs/catalog.md). No index: nothing to maintain on writes, ANALYZE keeps it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022_search_category_stats"
down_revision: str | Sequence[str] | None = "0021_quote_start_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE STATISTICS sts_products_lower_category ON (lower(category::text)) FROM products"
    )
    op.execute("ANALYZE products")


def downgrade() -> None:
    op.execute("DROP STATISTICS IF EXISTS sts_products_lower_category")
