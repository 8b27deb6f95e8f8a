"""search listed prices: each product's active-variant price range, kept by triggers

Revision ID: 0022_search_listed_prices
Revises: 0021_quote_start_outbox
Create Date: 2026-12-02 01:10:00

Search took up to 201 candidate products and probed each one's variants
(`EXISTS` on `ixs_variants_product_active`) to hide products without an active variant,
then aggregated the page's prices from `variants` again. `products.listed_min_price` /
`listed_max_price` hold the lowest and highest price of the product's *active* variants
(both NULL when it has none), so a candidate is visible on its own row and a page's
prices come with it (repositories/search.py). Statement triggers on `variants` keep them
(inserts, deletes, and updates that change `active`, `price` or `product_id`; a stock
update changes none of them and writes nothing). No catalog writer changes.

Concurrency: the refresh locks the touched products (id order) before it reads their
variants in a later statement, so under READ COMMITTED it sees what a concurrent writer
of the same product committed while it waited, and the last writer leaves the right
range.

`lower(category)` gets expression statistics: the category filter was estimated at a
default 0.5 %, and the planner then put `vendors` outside a Materialize of the text
matches ("jabon natural" in "Cosmética").
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022_search_listed_prices"
down_revision: str | Sequence[str] | None = "0021_quote_start_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFRESH_FN = """
CREATE FUNCTION marketred_refresh_listed_prices(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- Lock first; the UPDATE below takes a new snapshot (READ COMMITTED), which then
    -- includes the variants of any writer of these products that committed meanwhile.
    PERFORM 1 FROM products WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE products p
    SET listed_min_price = s.lo, listed_max_price = s.hi
    FROM (
        SELECT t.id, min(v.price) AS lo, max(v.price) AS hi
        FROM unnest(ids) AS t (id)
        LEFT JOIN variants v ON v.product_id = t.id AND v.active
        GROUP BY t.id
    ) s
    WHERE p.id = s.id
      AND (p.listed_min_price IS DISTINCT FROM s.lo OR p.listed_max_price IS DISTINCT FROM s.hi);
END $$
"""

TRIGGER_FN = """
CREATE FUNCTION marketred_variants_listed_prices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM marketred_refresh_listed_prices(
            ARRAY(SELECT DISTINCT product_id FROM new_rows WHERE active));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM marketred_refresh_listed_prices(
            ARRAY(SELECT DISTINCT product_id FROM old_rows WHERE active));
    ELSE
        PERFORM marketred_refresh_listed_prices(ARRAY(
            SELECT DISTINCT unnest(ARRAY[o.product_id, n.product_id])
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.active, o.price, o.product_id) IS DISTINCT FROM
                  (n.active, n.price, n.product_id)));
    END IF;
    RETURN NULL;
END $$
"""

TRIGGERS = {
    "insert": "AFTER INSERT ON variants REFERENCING NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON variants REFERENCING OLD TABLE AS old_rows",
    "update": "AFTER UPDATE ON variants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def upgrade() -> None:
    op.execute("ALTER TABLE products ADD COLUMN listed_min_price bigint")
    op.execute("ALTER TABLE products ADD COLUMN listed_max_price bigint")
    op.execute(REFRESH_FN)
    op.execute(TRIGGER_FN)
    for name, when in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER trg_variants_listed_prices_{name} {when} "
            "FOR EACH STATEMENT EXECUTE FUNCTION marketred_variants_listed_prices()"
        )
    op.execute(
        "UPDATE products p SET listed_min_price = s.lo, listed_max_price = s.hi "
        "FROM (SELECT product_id, min(price) AS lo, max(price) AS hi FROM variants "
        "WHERE active GROUP BY product_id) s WHERE p.id = s.product_id"
    )
    op.execute(
        "CREATE STATISTICS sts_products_lower_category ON (lower(category::text)) FROM products"
    )
    op.execute("ANALYZE products")


def downgrade() -> None:
    op.execute("DROP STATISTICS IF EXISTS sts_products_lower_category")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_variants_listed_prices_{name} ON variants")
    op.execute("DROP FUNCTION IF EXISTS marketred_variants_listed_prices()")
    op.execute("DROP FUNCTION IF EXISTS marketred_refresh_listed_prices(uuid[])")
    op.execute("ALTER TABLE products DROP COLUMN IF EXISTS listed_max_price")
    op.execute("ALTER TABLE products DROP COLUMN IF EXISTS listed_min_price")
