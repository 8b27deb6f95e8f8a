"""search at scale: name-only full-text vector, active-name index for LIMIT-first listings

Revision ID: 0010_search_at_scale
Revises: 0008_payout_banking
Create Date: 2026-12-01 17:40:00

Search no longer ranks or counts every match (repositories/search.py): it takes a bounded
set of candidates, products whose *name* matches first (`name_vector`, stored like
`search_vector` so neither plan recomputes it per row; same 'spanish' configuration on
unaccented text), then the rest. Listings without a
query walk `ixs_products_active_name` in name order and stop at the page.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_search_at_scale"
down_revision: str | Sequence[str] | None = "0008_payout_banking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_VECTOR = "to_tsvector('spanish'::regconfig, marketred_unaccent(name))"


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE products ADD COLUMN name_vector tsvector "
        f"GENERATED ALWAYS AS ({NAME_VECTOR}) STORED"
    )
    op.execute("CREATE INDEX ixs_products_name_vector ON products USING gin (name_vector)")
    op.execute("CREATE INDEX ixs_products_active_name ON products (name, id) WHERE active")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ixs_products_active_name")
    op.execute("DROP INDEX IF EXISTS ixs_products_name_vector")
    op.execute("ALTER TABLE products DROP COLUMN IF EXISTS name_vector")
