"""widget funnel counters (impressions, clicks per product and ref)

Revision ID: 0004_widget_events
Revises: 0003_idempotency
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_widget_events'
down_revision = '0003_idempotency'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('widget_counters',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('impressions', sa.Integer(), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('merchant_id', 'product_id', 'ref', name='uq_widget_counters_key')
    )


def downgrade() -> None:
    op.drop_table('widget_counters')
