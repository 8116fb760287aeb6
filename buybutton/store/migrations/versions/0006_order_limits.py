"""limits against inventory hoarding: per-product max quantity and hold time, the client of an order

Revision ID: 0006_order_limits
Revises: 0005_orders_payment_id_index
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_order_limits'
down_revision = '0005_orders_payment_id_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_per_order', sa.Integer(), nullable=False,
                                      server_default=sa.text('10')))
        batch_op.add_column(sa.Column('hold_seconds', sa.Integer(), nullable=True))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_orders_client_status', ['client_key', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_client_status')
        batch_op.drop_column('client_key')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('hold_seconds')
        batch_op.drop_column('max_per_order')
