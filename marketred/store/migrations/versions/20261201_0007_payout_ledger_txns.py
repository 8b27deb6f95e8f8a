"""payout ledger links: a payout item carries ledger transactions, each in one live payout

Revision ID: 0007_payout_ledger_txns
Revises: 0006_indexer_outbox
Create Date: 2026-12-01 09:00:00

A quote may now be refunded several times (each refund its own ledger transaction), so
"one live item per (quote, kind)" no longer says what was paid: the second partial
refund of a paid-out quote is a second clawback. The rule moves to the transactions:
`payout_ledger_txns` links each item to the sale / refund transactions it carries, with
one live link per transaction. Existing items are linked from the ledger: a sale item to
its quote's sale (and to the quote's single refund when the item was paid net of it), a
clawback item to the quote's refund.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_payout_ledger_txns"
down_revision: str | Sequence[str] | None = "0006_indexer_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_ledger_txns",
        sa.Column("payout_item_id", sa.Uuid(), nullable=False),
        sa.Column("txn_id", sa.Uuid(), nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payout_item_id"],
            ["payout_items.id"],
            name=op.f("fk_payout_ledger_txns_payout_item_id_payout_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["payouts.id"],
            name=op.f("fk_payout_ledger_txns_payout_id_payouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("payout_item_id", "txn_id", name=op.f("pk_payout_ledger_txns")),
    )
    op.create_index(
        op.f("ix_payout_ledger_txns_payout_id"), "payout_ledger_txns", ["payout_id"], unique=False
    )
    op.create_index(
        "uq_payout_ledger_txns_live_txn",
        "payout_ledger_txns",
        ["txn_id"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    # Link what existing payouts took. A sale item whose gross differs from its sale was
    # paid net of the quote's refund, so it carries that refund too.
    op.execute(
        """
        INSERT INTO payout_ledger_txns (payout_item_id, txn_id, payout_id, released_at)
        SELECT DISTINCT i.id, e.txn_id, i.payout_id, i.released_at
        FROM payout_items i
        JOIN ledger_entries e ON e.quote_id = i.quote_id AND e.account = 'vendor_payable'
        LEFT JOIN ledger_entries sale
          ON sale.quote_id = i.quote_id AND sale.key LIKE 'quote:%:sale:buyer_payments'
        WHERE (i.kind = 'sale' AND e.key LIKE 'quote:%:sale:%')
           OR (i.kind = 'clawback' AND e.key LIKE 'quote:%:refund:%')
           OR (i.kind = 'sale' AND e.key LIKE 'quote:%:refund:%' AND i.gross <> sale.amount)
        ON CONFLICT DO NOTHING
        """
    )
    op.drop_index("uq_payout_items_live_quote_kind", table_name="payout_items")
    op.create_index(
        "uq_payout_items_live_sale",
        "payout_items",
        ["quote_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'sale' AND released_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_payout_items_live_sale", table_name="payout_items")
    op.create_index(
        "uq_payout_items_live_quote_kind",
        "payout_items",
        ["quote_id", "kind"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index("uq_payout_ledger_txns_live_txn", table_name="payout_ledger_txns")
    op.drop_index(op.f("ix_payout_ledger_txns_payout_id"), table_name="payout_ledger_txns")
    op.drop_table("payout_ledger_txns")
