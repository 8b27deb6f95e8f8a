"""search at scale: name-only full-text vector, active-name index for LIMIT-first listings

Revision ID: 0010_search_at_scale
Revises: 0009_tokens_valid_after
Create Date: 2026-12-01 17:40:00

Search no longer ranks or counts every match (repositories/search.py): it takes a bounded
set of candidates, products whose *name* matches first (`name_vector`, stored like
`search_vector` so neither plan recomputes it per row; same 'spanish' configuration on
unaccented text), then the rest. Listings without a
query walk `ixs_products_active_name` in name order and stop at the page.

Typo tolerance moves from a trigram scan of every product name to `search_words`, the
distinct words of product names (a few thousand, not 100,000 names): a misspelt query's
words are corrected against it, then searched by full text. Triggers on `products` keep
it filled; a word whose products are gone stays, harmless (it only leads to a full-text
search that finds nothing).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_search_at_scale"
down_revision: str | Sequence[str] | None = "0009_tokens_valid_after"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_VECTOR = "to_tsvector('spanish'::regconfig, marketred_unaccent(name))"
# Words as search folds them: unaccented, lower case, letters and digits, 3+ characters.
NAME_WORDS = (
    "SELECT DISTINCT w FROM new_rows, "
    "regexp_split_to_table(marketred_unaccent(lower(new_rows.name)), '[^[:alnum:]]+') w "
    "WHERE length(w) >= 3"
)
WORDS_FN = f"""
CREATE FUNCTION marketred_collect_search_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word) {NAME_WORDS} ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE products ADD COLUMN name_vector tsvector "
        f"GENERATED ALWAYS AS ({NAME_VECTOR}) STORED"
    )
    op.execute("CREATE INDEX ixs_products_name_vector ON products USING gin (name_vector)")
    op.execute("CREATE INDEX ixs_products_active_name ON products (name, id) WHERE active")
    op.execute(
        "CREATE TABLE search_words "
        "(word text NOT NULL, CONSTRAINT pk_search_words PRIMARY KEY (word))"
    )
    op.execute("CREATE INDEX ixs_search_words_trgm ON search_words USING gin (word gin_trgm_ops)")
    op.execute(WORDS_FN)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER trg_products_search_words_{event.lower()} AFTER {event} ON products "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION marketred_collect_search_words()"
        )
    op.execute(f"INSERT INTO search_words (word) {NAME_WORDS.replace('new_rows', 'products')}")
    # Typos no longer scan the names by trigram: the index only cost every write.
    op.execute("DROP INDEX IF EXISTS ixs_products_name_trgm")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ixs_products_name_trgm ON products "
        "USING gin (marketred_unaccent(lower(name)) gin_trgm_ops)"
    )
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_products_search_words_{event} ON products")
    op.execute("DROP FUNCTION IF EXISTS marketred_collect_search_words()")
    op.execute("DROP TABLE IF EXISTS search_words")
    op.execute("DROP INDEX IF EXISTS ixs_products_active_name")
    op.execute("DROP INDEX IF EXISTS ixs_products_name_vector")
    op.execute("ALTER TABLE products DROP COLUMN IF EXISTS name_vector")
