"""products opt in to the public catalog feeds (in_feed, off by default)

Revision ID: 0008_product_feed_opt_in
Revises: 0007_health
Create Date: 2026-12-01

Existing products start out of the feeds: a feed mints offers anyone can fetch, so only what
a merchant chooses to publish is listed (PATCH /v1/products/ID {"in_feed": true}).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_product_feed_opt_in'
down_revision = '0007_health'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("in_feed", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("in_feed")
