"""merchants' allowed origins (return links and postMessage targets); when shopper pages last
asked the payment provider about an order (one read per order per interval, across workers)

Revision ID: 0009_merchant_allowed_origins
Revises: 0008_product_feed_opt_in
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_merchant_allowed_origins'
down_revision = '0008_product_feed_opt_in'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A JSON list of origins; NULL (every existing merchant): none registered.
    op.add_column('merchants', sa.Column('allowed_origins', sa.Text(), nullable=True))
    op.add_column('orders', sa.Column('provider_checked_at', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('provider_checked_at')
    with op.batch_alter_table('merchants') as batch:
        batch.drop_column('allowed_origins')
