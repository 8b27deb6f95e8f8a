"""featured products and vendors for a period (the seed's advertising); the site theme

Revision ID: 0018_featured_and_theme
Revises: 0017_product_images
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_featured_and_theme"
down_revision: str | Sequence[str] | None = "0017_product_images"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "featured_items",
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("vendor_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_email", sa.String(length=320), nullable=True),
        sa.Column("ended_by_email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("(product_id IS NULL) <> (vendor_id IS NULL)",
                           name=op.f("ck_featured_items_one_target")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_featured_items_period")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_featured_items_created_by_users")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_featured_items_product_id_products")),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendors.id"], ondelete="CASCADE",
                                name=op.f("fk_featured_items_vendor_id_vendors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_featured_items")),
    )  # fmt: skip
    op.create_index(op.f("ix_featured_items_product_id"), "featured_items", ["product_id"])
    op.create_index(op.f("ix_featured_items_vendor_id"), "featured_items", ["vendor_id"])
    op.create_table(
        "site_theme",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("primary", sa.String(length=7), nullable=False),
        sa.Column("secondary", sa.String(length=7), nullable=False),
        sa.Column("font_stack", sa.String(length=200), nullable=False),
        sa.Column("radius_px", sa.Integer(), nullable=False),
        sa.Column("logo_url", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_site_theme_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_theme")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("site_theme")
    op.drop_index(op.f("ix_featured_items_vendor_id"), table_name="featured_items")
    op.drop_index(op.f("ix_featured_items_product_id"), table_name="featured_items")
    op.drop_table("featured_items")
