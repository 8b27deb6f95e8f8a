"""catalog search: Spanish full-text vector, trigram name index

Revision ID: 0003_catalog
Revises: 0002_accounts
Create Date: 2026-11-28 03:55:00

`marketred_unaccent` wraps unaccent() as IMMUTABLE (the dictionary is pinned), which is
what a generated column and an expression index require. The tsvector uses the built-in
'spanish' config on unaccented text, so "cafe" and "Café" stem alike on both sides.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_catalog"
down_revision: str | Sequence[str] | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNACCENT_FN = """
CREATE OR REPLACE FUNCTION marketred_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""

SEARCH_VECTOR = (
    "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(name)), 'A') || "
    "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(keywords)), 'B') || "
    "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(coalesce(category, ''))), 'C') || "
    "setweight(to_tsvector('spanish'::regconfig, marketred_unaccent(description)), 'D')"
)


def upgrade() -> None:
    op.execute(UNACCENT_FN)
    op.execute(
        f"ALTER TABLE products ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED"
    )
    op.execute("CREATE INDEX ixs_products_search_vector ON products USING gin (search_vector)")
    op.execute(
        "CREATE INDEX ixs_products_name_trgm ON products "
        "USING gin (marketred_unaccent(lower(name)) gin_trgm_ops)"
    )
    # Public listings filter on active products of a vendor, newest first.
    op.execute("CREATE INDEX ixs_products_vendor_active ON products (vendor_id, name) WHERE active")
    op.execute(
        "CREATE INDEX ixs_variants_product_active ON variants (product_id, price) WHERE active"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ixs_variants_product_active")
    op.execute("DROP INDEX IF EXISTS ixs_products_vendor_active")
    op.execute("DROP INDEX IF EXISTS ixs_products_name_trgm")
    op.execute("DROP INDEX IF EXISTS ixs_products_search_vector")
    op.execute("ALTER TABLE products DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP FUNCTION IF EXISTS marketred_unaccent(text)")
